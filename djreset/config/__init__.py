"""reset.yaml: read with positions (yamlsource), checked and typed (model)."""
from djreset.config.model import (
    CONFIG_NAME,
    DataMigrationPolicy,
    Environment,
    PartialReset,
    Project,
    StepCall,
    find,
    load,
)
from djreset.engines import DatabaseSpec

__all__ = ["CONFIG_NAME", "DatabaseSpec", "DataMigrationPolicy", "Environment", "PartialReset", "Project", "StepCall", "find", "load"]
