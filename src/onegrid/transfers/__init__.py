"""onegrid.transfers: the transfer service (what FTS3 is for WLCG).

- `service`: the request queue shared with the rules engine (queue, cancel, finisher hand-off).
- `sources`, `scheduler`, `optimizer`: pure decisions (which replica, which requests now,
  how many per link).
- `topology`, `planning`, `copy`, `staging`, `outcomes`, `links`: the conveyor's steps.
- `agents.conveyor`: the `onegrid daemon conveyor` agent.
- `jobs`, `models`, `router`: the FTS3-shaped REST API under /transfers.
"""
