"""proxy letters, outbox, sign-ups

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('assembly_id', sa.Integer(), nullable=True),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('to_name', sa.String(length=200), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('subject', sa.String(length=400), nullable=False),
    sa.Column('text_body', sa.Text(), nullable=False),
    sa.Column('html_body', sa.Text(), nullable=True),
    sa.Column('attachments', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sending', 'sent', 'failed', name='mail_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.String(length=200), nullable=True),
    sa.Column('sent_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assembly_id'], ['assemblies.id'], name=op.f('fk_outbox_messages_assembly_id_assemblies'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
    sa.UniqueConstraint('message_id', name=op.f('uq_outbox_messages_message_id'))
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_messages_assembly_id'), ['assembly_id'], unique=False)
        batch_op.create_index('ix_outbox_messages_status_next', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_messages_to_address'), ['to_address'], unique=False)

    op.create_table('proxy_letters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assembly_id', sa.Integer(), nullable=False),
    sa.Column('grantor_city_id', sa.Integer(), nullable=False),
    sa.Column('holder_city_id', sa.Integer(), nullable=True),
    sa.Column('to_chair', sa.Boolean(), nullable=False),
    sa.Column('signatory_name', sa.String(length=200), nullable=False),
    sa.Column('signatory_title', sa.String(length=200), nullable=False),
    sa.Column('instructions', sa.Text(), nullable=False),
    sa.Column('document_path', sa.String(length=200), nullable=False),
    sa.Column('document_sha256', sa.String(length=64), nullable=False),
    sa.Column('document_size', sa.Integer(), nullable=False),
    sa.Column('document_filename', sa.String(length=255), nullable=False),
    sa.Column('status', sa.Enum('submitted', 'verified', 'rejected', 'superseded', 'revoked', 'withdrawn', name='proxy_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('rejection_reason', sa.Text(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assembly_id'], ['assemblies.id'], name=op.f('fk_proxy_letters_assembly_id_assemblies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_proxy_letters_decided_by_id_users')),
    sa.ForeignKeyConstraint(['grantor_city_id'], ['member_cities.id'], name=op.f('fk_proxy_letters_grantor_city_id_member_cities')),
    sa.ForeignKeyConstraint(['holder_city_id'], ['member_cities.id'], name=op.f('fk_proxy_letters_holder_city_id_member_cities')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_proxy_letters_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proxy_letters'))
    )
    with op.batch_alter_table('proxy_letters', schema=None) as batch_op:
        batch_op.create_index('ix_proxy_letters_holder', ['assembly_id', 'holder_city_id'], unique=False)
        batch_op.create_index('uq_proxy_letters_active_grantor', ['assembly_id', 'grantor_city_id'], unique=True, sqlite_where=sa.text("status IN ('submitted', 'verified')"), postgresql_where=sa.text("status IN ('submitted', 'verified')"))

    op.create_table('proxy_letter_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('letter_id', sa.Integer(), nullable=False),
    sa.Column('at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('from_status', sa.String(length=32), nullable=True),
    sa.Column('to_status', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_proxy_letter_events_actor_id_users')),
    sa.ForeignKeyConstraint(['letter_id'], ['proxy_letters.id'], name=op.f('fk_proxy_letter_events_letter_id_proxy_letters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proxy_letter_events'))
    )
    with op.batch_alter_table('proxy_letter_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proxy_letter_events_letter_id'), ['letter_id'], unique=False)

    op.create_table('signups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delegate_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['delegate_id'], ['delegates.id'], name=op.f('fk_signups_delegate_id_delegates'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['programme_items.id'], name=op.f('fk_signups_item_id_programme_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signups')),
    sa.UniqueConstraint('delegate_id', 'item_id', name=op.f('uq_signups_delegate_id_item_id'))
    )
    with op.batch_alter_table('signups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signups_item_id'), ['item_id'], unique=False)

    with op.batch_alter_table('programme_items', schema=None) as batch_op:
        # Server defaults fill the rows that already exist; the models set values themselves.
        batch_op.add_column(sa.Column('signup_count', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('all_day', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('latitude', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('longitude', sa.Double(), nullable=True))
        batch_op.create_check_constraint(
            'within_capacity', 'capacity IS NULL OR signup_count <= capacity')
    with op.batch_alter_table('programme_items', schema=None) as batch_op:
        batch_op.alter_column('signup_count', server_default=None)
        batch_op.alter_column('all_day', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('programme_items', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_programme_items_within_capacity'), type_='check')
        batch_op.drop_column('longitude')
        batch_op.drop_column('latitude')
        batch_op.drop_column('all_day')
        batch_op.drop_column('signup_count')

    with op.batch_alter_table('signups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signups_item_id'))

    op.drop_table('signups')
    with op.batch_alter_table('proxy_letter_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proxy_letter_events_letter_id'))

    op.drop_table('proxy_letter_events')
    with op.batch_alter_table('proxy_letters', schema=None) as batch_op:
        batch_op.drop_index('uq_proxy_letters_active_grantor', sqlite_where=sa.text("status IN ('submitted', 'verified')"), postgresql_where=sa.text("status IN ('submitted', 'verified')"))
        batch_op.drop_index('ix_proxy_letters_holder')

    op.drop_table('proxy_letters')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_messages_to_address'))
        batch_op.drop_index('ix_outbox_messages_status_next')
        batch_op.drop_index(batch_op.f('ix_outbox_messages_assembly_id'))

    op.drop_table('outbox_messages')
