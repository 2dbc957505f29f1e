"""Catalog: scopes, DIDs with typed metadata, contents, RSEs (attributes, protocols,
distances, limits, usage), replicas, bad replicas, account limits and usage, traces.

Revision ID: 0002_catalog
Revises: 0001_iam
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import onegrid.db.base

revision = "0002_catalog"
down_revision = "0001_iam"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rses',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('rse_type', sa.Enum('DISK', 'TAPE', name='rsetype', native_enum=False, length=8), nullable=False),
    sa.Column('deterministic', sa.Boolean(), nullable=False),
    sa.Column('volatile', sa.Boolean(), nullable=False),
    sa.Column('staging_area', sa.Boolean(), nullable=False),
    sa.Column('availability_read', sa.Boolean(), nullable=False),
    sa.Column('availability_write', sa.Boolean(), nullable=False),
    sa.Column('availability_delete', sa.Boolean(), nullable=False),
    sa.Column('country_name', sa.String(length=64), nullable=True),
    sa.Column('city', sa.String(length=64), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('created_at', onegrid.db.base.UtcDateTime(), nullable=False),
    sa.Column('updated_at', onegrid.db.base.UtcDateTime(), nullable=False),
    sa.Column('deleted_at', onegrid.db.base.UtcDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rses')),
    sa.UniqueConstraint('name', name=op.f('uq_rses_name'))
    )
    op.create_table('traces',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('created_at', onegrid.db.base.UtcDateTime(), nullable=False),
    sa.Column('event_type', sa.String(length=64), nullable=False),
    sa.Column('account', sa.String(length=64), nullable=True),
    sa.Column('scope', sa.String(length=64), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('dataset_scope', sa.String(length=64), nullable=True),
    sa.Column('dataset', sa.String(length=255), nullable=True),
    sa.Column('rse', sa.String(length=64), nullable=True),
    sa.Column('client_state', sa.String(length=64), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_traces'))
    )
    with op.batch_alter_table('traces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_traces_created_at'), ['created_at'], unique=False)

    op.create_table('account_global_limits',
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('rse_expression', sa.String(length=255), nullable=False),
    sa.Column('bytes', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['account'], ['accounts.name'], name=op.f('fk_account_global_limits_account_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account', 'rse_expression', name=op.f('pk_account_global_limits'))
    )
    op.create_table('account_limits',
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('rse_id', sa.Integer(), nullable=False),
    sa.Column('bytes', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['account'], ['accounts.name'], name=op.f('fk_account_limits_account_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rse_id'], ['rses.id'], name=op.f('fk_account_limits_rse_id_rses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account', 'rse_id', name=op.f('pk_account_limits'))
    )
    op.create_table('account_usage',
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('rse_id', sa.Integer(), nullable=False),
    sa.Column('files', sa.BigInteger(), nullable=False),
    sa.Column('bytes', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', onegrid.db.base.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account'], ['accounts.name'], name=op.f('fk_account_usage_account_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rse_id'], ['rses.id'], name=op.f('fk_account_usage_rse_id_rses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account', 'rse_id', name=op.f('pk_account_usage'))
    )
    op.create_table('bad_replicas',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('scope', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('rse_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('BAD', 'SUSPICIOUS', 'RECOVERED', 'LOST', name='badreplicastate', native_enum=False, length=16), nullable=False),
    sa.Column('reason', sa.String(length=1024), nullable=False),
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('created_at', onegrid.db.base.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['rse_id'], ['rses.id'], name=op.f('fk_bad_replicas_rse_id_rses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bad_replicas'))
    )
    with op.batch_alter_table('bad_replicas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bad_replicas_rse_id'), ['rse_id'], unique=False)

    op.create_table('rse_attributes',
    sa.Column('rse_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['rse_id'], ['rses.id'], name=op.f('fk_rse_attributes_rse_id_rses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('rse_id', 'key', name=op.f('pk_rse_attributes'))
    )
    with op.batch_alter_table('rse_attributes', schema=None) as batch_op:
        batch_op.create_index('ix_rse_attributes_key', ['key'], unique=False)

    op.create_table('rse_distances',
    sa.Column('src_rse_id', sa.Integer(), nullable=False),
    sa.Column('dest_rse_id', sa.Integer(), nullable=False),
    sa.Column('distance', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['dest_rse_id'], ['rses.id'], name=op.f('fk_rse_distances_dest_rse_id_rses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['src_rse_id'], ['rses.id'], name=op.f('fk_rse_distances_src_rse_id_rses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('src_rse_id', 'dest_rse_id', name=op.f('pk_rse_distances'))
    )
    op.create_table('rse_limits',
    sa.Column('rse_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['rse_id'], ['rses.id'], name=op.f('fk_rse_limits_rse_id_rses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('rse_id', 'name', name=op.f('pk_rse_limits'))
    )
    op.create_table('rse_protocols',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('rse_id', sa.Integer(), nullable=False),
    sa.Column('scheme', sa.String(length=32), nullable=False),
    sa.Column('hostname', sa.String(length=255), nullable=False),
    sa.Column('port', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=1024), nullable=False),
    sa.Column('impl', sa.String(length=255), nullable=False),
    sa.Column('read_lan', sa.Integer(), nullable=False),
    sa.Column('write_lan', sa.Integer(), nullable=False),
    sa.Column('delete_lan', sa.Integer(), nullable=False),
    sa.Column('read_wan', sa.Integer(), nullable=False),
    sa.Column('write_wan', sa.Integer(), nullable=False),
    sa.Column('delete_wan', sa.Integer(), nullable=False),
    sa.Column('tpc_read_wan', sa.Integer(), nullable=False),
    sa.Column('tpc_write_wan', sa.Integer(), nullable=False),
    sa.Column('extended_attributes', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['rse_id'], ['rses.id'], name=op.f('fk_rse_protocols_rse_id_rses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rse_protocols')),
    sa.UniqueConstraint('rse_id', 'scheme', 'hostname', 'port', name='uq_rse_protocols_rse_id')
    )
    with op.batch_alter_table('rse_protocols', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rse_protocols_rse_id'), ['rse_id'], unique=False)

    op.create_table('rse_usage',
    sa.Column('rse_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('used', sa.BigInteger(), nullable=False),
    sa.Column('free', sa.BigInteger(), nullable=True),
    sa.Column('total', sa.BigInteger(), nullable=True),
    sa.Column('files', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', onegrid.db.base.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['rse_id'], ['rses.id'], name=op.f('fk_rse_usage_rse_id_rses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('rse_id', 'source', name=op.f('pk_rse_usage'))
    )
    op.create_table('scopes',
    sa.Column('scope', sa.String(length=64), nullable=False),
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('created_at', onegrid.db.base.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account'], ['accounts.name'], name=op.f('fk_scopes_account_accounts')),
    sa.PrimaryKeyConstraint('scope', name=op.f('pk_scopes'))
    )
    with op.batch_alter_table('scopes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scopes_account'), ['account'], unique=False)

    op.create_table('dids',
    sa.Column('scope', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('did_type', sa.Enum('FILE', 'DATASET', 'CONTAINER', name='didtype', native_enum=False, length=16), nullable=False),
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('is_open', sa.Boolean(), nullable=False),
    sa.Column('monotonic', sa.Boolean(), nullable=False),
    sa.Column('suppressed', sa.Boolean(), nullable=False),
    sa.Column('bytes', sa.BigInteger(), nullable=True),
    sa.Column('length', sa.BigInteger(), nullable=True),
    sa.Column('adler32', sa.String(length=8), nullable=True),
    sa.Column('md5', sa.String(length=32), nullable=True),
    sa.Column('guid', sa.String(length=36), nullable=True),
    sa.Column('created_at', onegrid.db.base.UtcDateTime(), nullable=False),
    sa.Column('updated_at', onegrid.db.base.UtcDateTime(), nullable=False),
    sa.Column('closed_at', onegrid.db.base.UtcDateTime(), nullable=True),
    sa.Column('expired_at', onegrid.db.base.UtcDateTime(), nullable=True),
    sa.Column('datatype', sa.String(length=64), nullable=True),
    sa.Column('project', sa.String(length=64), nullable=True),
    sa.Column('run_number', sa.BigInteger(), nullable=True),
    sa.Column('stream_name', sa.String(length=64), nullable=True),
    sa.Column('version', sa.String(length=64), nullable=True),
    sa.Column('campaign', sa.String(length=64), nullable=True),
    sa.Column('events', sa.BigInteger(), nullable=True),
    sa.Column('prod_step', sa.String(length=64), nullable=True),
    sa.Column('experiment', sa.Integer(), nullable=True),
    sa.Column('provenance', sa.String(length=64), nullable=True),
    sa.Column('phys_group', sa.String(length=64), nullable=True),
    sa.Column('task_id', sa.BigInteger(), nullable=True),
    sa.Column('meta', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['scope'], ['scopes.scope'], name=op.f('fk_dids_scope_scopes')),
    sa.PrimaryKeyConstraint('scope', 'name', name=op.f('pk_dids'))
    )
    with op.batch_alter_table('dids', schema=None) as batch_op:
        batch_op.create_index('ix_dids_campaign', ['campaign'], unique=False)
        batch_op.create_index('ix_dids_datatype_run', ['datatype', 'run_number'], unique=False)
        batch_op.create_index('ix_dids_events', ['events'], unique=False)
        batch_op.create_index('ix_dids_expired_at', ['expired_at'], unique=False)
        batch_op.create_index('ix_dids_guid', ['guid'], unique=False)
        batch_op.create_index('ix_dids_project_run', ['project', 'run_number'], unique=False)
        batch_op.create_index('ix_dids_run_number', ['run_number'], unique=False)
        batch_op.create_index('ix_dids_scope_type', ['scope', 'did_type'], unique=False)
        batch_op.create_index('ix_dids_stream_name', ['stream_name'], unique=False)

    op.create_table('contents',
    sa.Column('scope', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('child_scope', sa.String(length=64), nullable=False),
    sa.Column('child_name', sa.String(length=255), nullable=False),
    sa.Column('child_type', sa.Enum('FILE', 'DATASET', 'CONTAINER', name='didtype', native_enum=False, length=16), nullable=False),
    sa.Column('bytes', sa.BigInteger(), nullable=True),
    sa.Column('adler32', sa.String(length=8), nullable=True),
    sa.Column('md5', sa.String(length=32), nullable=True),
    sa.Column('created_at', onegrid.db.base.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['child_scope', 'child_name'], ['dids.scope', 'dids.name'], name='fk_contents_child_dids', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['scope', 'name'], ['dids.scope', 'dids.name'], name='fk_contents_parent_dids', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('scope', 'name', 'child_scope', 'child_name', name=op.f('pk_contents'))
    )
    with op.batch_alter_table('contents', schema=None) as batch_op:
        batch_op.create_index('ix_contents_child', ['child_scope', 'child_name'], unique=False)

    op.create_table('replicas',
    sa.Column('scope', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('rse_id', sa.Integer(), nullable=False),
    sa.Column('bytes', sa.BigInteger(), nullable=False),
    sa.Column('adler32', sa.String(length=8), nullable=True),
    sa.Column('md5', sa.String(length=32), nullable=True),
    sa.Column('path', sa.String(length=1024), nullable=True),
    sa.Column('state', sa.Enum('AVAILABLE', 'UNAVAILABLE', 'COPYING', 'BEING_DELETED', 'BAD', 'TEMPORARY_UNAVAILABLE', name='replicastate', native_enum=False, length=24), nullable=False),
    sa.Column('lock_cnt', sa.Integer(), nullable=False),
    sa.Column('tombstone', onegrid.db.base.UtcDateTime(), nullable=True),
    sa.Column('accessed_at', onegrid.db.base.UtcDateTime(), nullable=True),
    sa.Column('created_at', onegrid.db.base.UtcDateTime(), nullable=False),
    sa.Column('updated_at', onegrid.db.base.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['rse_id'], ['rses.id'], name=op.f('fk_replicas_rse_id_rses')),
    sa.ForeignKeyConstraint(['scope', 'name'], ['dids.scope', 'dids.name'], name='fk_replicas_dids', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('scope', 'name', 'rse_id', name=op.f('pk_replicas'))
    )
    with op.batch_alter_table('replicas', schema=None) as batch_op:
        batch_op.create_index('ix_replicas_rse_state', ['rse_id', 'state'], unique=False)
        batch_op.create_index('ix_replicas_rse_tombstone', ['rse_id', 'tombstone'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('replicas', schema=None) as batch_op:
        batch_op.drop_index('ix_replicas_rse_tombstone')
        batch_op.drop_index('ix_replicas_rse_state')

    op.drop_table('replicas')
    with op.batch_alter_table('contents', schema=None) as batch_op:
        batch_op.drop_index('ix_contents_child')

    op.drop_table('contents')
    with op.batch_alter_table('dids', schema=None) as batch_op:
        batch_op.drop_index('ix_dids_stream_name')
        batch_op.drop_index('ix_dids_scope_type')
        batch_op.drop_index('ix_dids_run_number')
        batch_op.drop_index('ix_dids_project_run')
        batch_op.drop_index('ix_dids_guid')
        batch_op.drop_index('ix_dids_expired_at')
        batch_op.drop_index('ix_dids_events')
        batch_op.drop_index('ix_dids_datatype_run')
        batch_op.drop_index('ix_dids_campaign')

    op.drop_table('dids')
    with op.batch_alter_table('scopes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scopes_account'))

    op.drop_table('scopes')
    op.drop_table('rse_usage')
    with op.batch_alter_table('rse_protocols', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rse_protocols_rse_id'))

    op.drop_table('rse_protocols')
    op.drop_table('rse_limits')
    op.drop_table('rse_distances')
    with op.batch_alter_table('rse_attributes', schema=None) as batch_op:
        batch_op.drop_index('ix_rse_attributes_key')

    op.drop_table('rse_attributes')
    with op.batch_alter_table('bad_replicas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bad_replicas_rse_id'))

    op.drop_table('bad_replicas')
    op.drop_table('account_usage')
    op.drop_table('account_limits')
    op.drop_table('account_global_limits')
    with op.batch_alter_table('traces', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_traces_created_at'))

    op.drop_table('traces')
    op.drop_table('rses')
