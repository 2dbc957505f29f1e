"""onegrid.iam."""
