"""Replication rules: where copies of data must be (rules and their per-file locks), the
judge that turns rules into locks and transfer requests, the reaper that frees space,
and subscriptions that put rules on new data automatically."""
