"""The safety net: backups, the journal of runs cut short, the lock, confirmation, fault points."""
