"""Wms: the tables of onegrid.wms (edited in place until the first release).

Revision ID: 0004_wms
Revises: 0003_transfers
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import onegrid.db.base  # noqa: F401

revision = "0004_wms"
down_revision = "0003_transfers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
