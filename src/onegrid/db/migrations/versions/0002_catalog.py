"""Catalog: the tables of onegrid.catalog (edited in place until the first release).

Revision ID: 0002_catalog
Revises: 0001_iam
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import onegrid.db.base  # noqa: F401

revision = "0002_catalog"
down_revision = "0001_iam"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
