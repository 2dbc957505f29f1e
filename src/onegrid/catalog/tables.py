"""Tables of onegrid.catalog."""

from __future__ import annotations

from onegrid.db.base import Base  # noqa: F401
