"""Transfers: the tables of onegrid.transfers (edited in place until the first release).

Revision ID: 0003_transfers
Revises: 0002_catalog
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import onegrid.db.base  # noqa: F401

revision = "0003_transfers"
down_revision = "0002_catalog"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
