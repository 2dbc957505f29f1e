"""Transfers: requests, jobs, history, link optimizer state, storage limits, activity shares
(edited in place until the first release).

Revision ID: 0003_transfers
Revises: 0002_catalog
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import onegrid.db.base

revision = "0003_transfers"
down_revision = "0002_catalog"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('transfer_activity_shares',
    sa.Column('activity', sa.String(length=64), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('activity', name=op.f('pk_transfer_activity_shares'))
    )
    op.create_table('transfer_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('request_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('scope', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('source_rse_id', sa.Integer(), nullable=True),
    sa.Column('dest_rse_id', sa.Integer(), nullable=True),
    sa.Column('source_url', sa.String(length=2048), nullable=True),
    sa.Column('dest_url', sa.String(length=2048), nullable=True),
    sa.Column('activity', sa.String(length=64), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('bytes', sa.BigInteger(), nullable=False),
    sa.Column('duration', sa.Float(), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('finished_at', onegrid.db.base.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer_history'))
    )
    op.create_index(op.f('ix_transfer_history_finished_at'), 'transfer_history', ['finished_at'], unique=False)
    op.create_index('ix_transfer_history_link', 'transfer_history', ['source_rse_id', 'dest_rse_id', 'finished_at'], unique=False)
    op.create_index(op.f('ix_transfer_history_request_id'), 'transfer_history', ['request_id'], unique=False)
    op.create_table('transfer_jobs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('created_at', onegrid.db.base.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer_jobs'))
    )
    op.create_table('transfer_links',
    sa.Column('source_rse_id', sa.Integer(), nullable=False),
    sa.Column('dest_rse_id', sa.Integer(), nullable=False),
    sa.Column('active_limit', sa.Integer(), nullable=False),
    sa.Column('min_active', sa.Integer(), nullable=True),
    sa.Column('max_active', sa.Integer(), nullable=True),
    sa.Column('ema_throughput', sa.Float(), nullable=True),
    sa.Column('last_throughput', sa.Float(), nullable=True),
    sa.Column('success_rate', sa.Float(), nullable=True),
    sa.Column('decision', sa.String(length=255), nullable=False),
    sa.Column('decided_at', onegrid.db.base.UtcDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('source_rse_id', 'dest_rse_id', name=op.f('pk_transfer_links'))
    )
    op.create_table('transfer_requests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('rule_id', sa.String(length=36), nullable=True),
    sa.Column('job_id', sa.String(length=36), nullable=True),
    sa.Column('scope', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('dest_rse_id', sa.Integer(), nullable=True),
    sa.Column('source_rse_id', sa.Integer(), nullable=True),
    sa.Column('source_rse_expression', sa.String(length=255), nullable=True),
    sa.Column('source_urls', sa.JSON(), nullable=True),
    sa.Column('dest_url', sa.String(length=2048), nullable=True),
    sa.Column('activity', sa.String(length=64), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('bytes', sa.BigInteger(), nullable=True),
    sa.Column('adler32', sa.String(length=8), nullable=True),
    sa.Column('md5', sa.String(length=32), nullable=True),
    sa.Column('overwrite', sa.Boolean(), nullable=False),
    sa.Column('verify_checksum', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('retry_limit', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', onegrid.db.base.UtcDateTime(), nullable=True),
    sa.Column('excluded_sources', sa.JSON(), nullable=True),
    sa.Column('bytes_transferred', sa.BigInteger(), nullable=False),
    sa.Column('stage_endpoint', sa.String(length=2048), nullable=True),
    sa.Column('stage_request_id', sa.String(length=64), nullable=True),
    sa.Column('stage_path', sa.String(length=2048), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', onegrid.db.base.UtcDateTime(), nullable=False),
    sa.Column('updated_at', onegrid.db.base.UtcDateTime(), nullable=False),
    sa.Column('started_at', onegrid.db.base.UtcDateTime(), nullable=True),
    sa.Column('finished_at', onegrid.db.base.UtcDateTime(), nullable=True),
    sa.Column('notified', sa.Boolean(), nullable=False),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_expires', onegrid.db.base.UtcDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer_requests'))
    )
    op.create_index('ix_transfer_requests_did_dest', 'transfer_requests', ['scope', 'name', 'dest_rse_id'], unique=False)
    op.create_index('ix_transfer_requests_job_id', 'transfer_requests', ['job_id'], unique=False)
    op.create_index('ix_transfer_requests_notify', 'transfer_requests', ['notified', 'state'], unique=False)
    op.create_index('ix_transfer_requests_rule_id', 'transfer_requests', ['rule_id'], unique=False)
    op.create_index('ix_transfer_requests_state_next', 'transfer_requests', ['state', 'next_attempt_at'], unique=False)
    op.create_table('transfer_storage_limits',
    sa.Column('rse_id', sa.Integer(), nullable=False),
    sa.Column('max_reads', sa.Integer(), nullable=True),
    sa.Column('max_writes', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('rse_id', name=op.f('pk_transfer_storage_limits'))
    )


def downgrade() -> None:
    op.drop_table('transfer_storage_limits')
    op.drop_index('ix_transfer_requests_state_next', table_name='transfer_requests')
    op.drop_index('ix_transfer_requests_rule_id', table_name='transfer_requests')
    op.drop_index('ix_transfer_requests_notify', table_name='transfer_requests')
    op.drop_index('ix_transfer_requests_job_id', table_name='transfer_requests')
    op.drop_index('ix_transfer_requests_did_dest', table_name='transfer_requests')
    op.drop_table('transfer_requests')
    op.drop_table('transfer_links')
    op.drop_table('transfer_jobs')
    op.drop_index(op.f('ix_transfer_history_request_id'), table_name='transfer_history')
    op.drop_index('ix_transfer_history_link', table_name='transfer_history')
    op.drop_index(op.f('ix_transfer_history_finished_at'), table_name='transfer_history')
    op.drop_table('transfer_history')
    op.drop_table('transfer_activity_shares')
