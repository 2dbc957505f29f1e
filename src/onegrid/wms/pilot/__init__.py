"""The pilot: the worker-node agent that pulls jobs and runs them (`onegrid pilot`)."""
