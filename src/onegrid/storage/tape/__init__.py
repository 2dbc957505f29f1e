"""The tape emulation behind `onegrid storage --tape`: a disk buffer, cartridges, drives,
and the WLCG Tape REST API v1. The endpoint talks to it through `backend.TapeBackend`."""
