"""core aggregates

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('heartbeats',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('seen_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('detail', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_heartbeats'))
    )
    op.create_table('networks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.JSON(), nullable=False),
    sa.Column('secretariat_email', sa.String(length=254), nullable=False),
    sa.Column('home_timezone', sa.String(length=64), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_networks')),
    sa.UniqueConstraint('code', name=op.f('uq_networks_code'))
    )
    op.create_table('worker_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('requested_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answered_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_by', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_worker_checks'))
    )
    op.create_table('member_cities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('network_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.JSON(), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'], name=op.f('fk_member_cities_network_id_networks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_cities')),
    sa.UniqueConstraint('network_id', 'code', name=op.f('uq_member_cities_network_id_code'))
    )
    op.create_table('assemblies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('network_id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('number', sa.Integer(), nullable=True),
    sa.Column('title', sa.JSON(), nullable=False),
    sa.Column('host_city_id', sa.Integer(), nullable=False),
    sa.Column('venue', sa.JSON(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('home_timezone', sa.String(length=64), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('registration_deadline', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('proxy_deadline', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('quorum', sa.Enum('none', 'half', 'majority', 'two_thirds', name='quorum_rule', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('max_proxies_per_holder', sa.Integer(), nullable=False),
    sa.Column('proxy_to_chair_allowed', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'open', 'closed', name='assembly_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_assemblies_dates_in_order')),
    sa.CheckConstraint('max_proxies_per_holder >= 1', name=op.f('ck_assemblies_proxy_limit_positive')),
    sa.ForeignKeyConstraint(['host_city_id'], ['member_cities.id'], name=op.f('fk_assemblies_host_city_id_member_cities')),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'], name=op.f('fk_assemblies_network_id_networks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assemblies')),
    sa.UniqueConstraint('slug', name=op.f('uq_assemblies_slug'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('role', sa.Enum('secretariat', 'liaison', 'delegate', name='user_role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('city_id', sa.Integer(), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['city_id'], ['member_cities.id'], name=op.f('fk_users_city_id_member_cities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_table('delegations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assembly_id', sa.Integer(), nullable=False),
    sa.Column('city_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('undecided', 'attending', 'absent', name='delegation_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assembly_id'], ['assemblies.id'], name=op.f('fk_delegations_assembly_id_assemblies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['city_id'], ['member_cities.id'], name=op.f('fk_delegations_city_id_member_cities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delegations')),
    sa.UniqueConstraint('assembly_id', 'city_id', name=op.f('uq_delegations_assembly_id_city_id'))
    )
    op.create_table('programme_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assembly_id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=64), nullable=False),
    sa.Column('title', sa.JSON(), nullable=False),
    sa.Column('starts_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('location', sa.JSON(), nullable=False),
    sa.Column('kind', sa.Enum('ceremony', 'plenary', 'policy_dialogue', 'field_trip', 'reception', 'meal', 'press_conference', 'meeting', 'side_event', 'other', name='item_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('scheduled', 'cancelled', name='item_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('capacity IS NULL OR capacity >= 0', name=op.f('ck_programme_items_capacity_not_negative')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_programme_items_ends_after_start')),
    sa.ForeignKeyConstraint(['assembly_id'], ['assemblies.id'], name=op.f('fk_programme_items_assembly_id_assemblies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_items')),
    sa.UniqueConstraint('uid', name=op.f('uq_programme_items_uid'))
    )
    with op.batch_alter_table('programme_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_items_assembly_id'), ['assembly_id'], unique=False)

    op.create_table('delegates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assembly_id', sa.Integer(), nullable=False),
    sa.Column('delegation_id', sa.Integer(), nullable=False),
    sa.Column('family_name', sa.String(length=100), nullable=False),
    sa.Column('given_name', sa.String(length=100), nullable=False),
    sa.Column('name_local', sa.String(length=200), nullable=False),
    sa.Column('title', sa.JSON(), nullable=False),
    sa.Column('role', sa.Enum('representative', 'delegate', 'staff', 'performer', 'interpreter', 'press', 'observer', name='delegate_role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('status', sa.Enum('registered', 'confirmed', 'cancelled', name='delegate_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assembly_id'], ['assemblies.id'], name=op.f('fk_delegates_assembly_id_assemblies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['delegation_id'], ['delegations.id'], name=op.f('fk_delegates_delegation_id_delegations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delegates')),
    sa.UniqueConstraint('assembly_id', 'email', name=op.f('uq_delegates_assembly_id_email'))
    )
    with op.batch_alter_table('delegates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delegates_delegation_id'), ['delegation_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('delegates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delegates_delegation_id'))

    op.drop_table('delegates')
    with op.batch_alter_table('programme_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_items_assembly_id'))

    op.drop_table('programme_items')
    op.drop_table('delegations')
    op.drop_table('api_tokens')
    op.drop_table('users')
    op.drop_table('assemblies')
    op.drop_table('member_cities')
    op.drop_table('worker_checks')
    op.drop_table('networks')
    op.drop_table('heartbeats')
