"""reset.yaml: read with positions (yamlsource), checked and typed (model)."""
from djreset.config.model import (
    CONFIG_NAME,
    DataMigrationPolicy,
    Environment,
    Project,
    StepCall,
    find,
    load,
)
from djreset.engines import DatabaseSpec

__all__ = ["CONFIG_NAME", "DatabaseSpec", "DataMigrationPolicy", "Environment", "Project", "StepCall", "find", "load"]
