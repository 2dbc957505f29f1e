"""Operations of onegrid.wms, one transaction each (a session and a clock come in)."""
