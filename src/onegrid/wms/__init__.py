"""onegrid.wms."""
