"""onegrid.storage."""
