"""venue day: badges, check-ins and their history, badge jobs, door staff

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 02:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ROLES = ('secretariat', 'liaison', 'delegate')
NEW_ROLES = (*OLD_ROLES, 'staff')


def _set_roles(roles: tuple[str, ...]) -> None:
    # The role column's CHECK constraint lists the roles: rebuilt with the new list.
    listed = ", ".join(f"'{v}'" for v in roles)
    with op.batch_alter_table('users', recreate='auto') as batch_op:
        batch_op.drop_constraint(op.f('ck_users_user_role'), type_='check')
        batch_op.create_check_constraint(op.f('ck_users_user_role'), f"role IN ({listed})")


def upgrade() -> None:
    _set_roles(NEW_ROLES)
    op.create_table(
        'badges',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('assembly_id', sa.Integer(), nullable=False),
        sa.Column('delegate_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=64), nullable=False),
        sa.Column('issued_at', UTCDateTime(), nullable=False),
        sa.Column('revoked_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['assembly_id'], ['assemblies.id'],
                                name=op.f('fk_badges_assembly_id_assemblies'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['delegate_id'], ['delegates.id'],
                                name=op.f('fk_badges_delegate_id_delegates'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_badges')),
        sa.UniqueConstraint('code', name=op.f('uq_badges_code')),
    )
    with op.batch_alter_table('badges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_badges_assembly_id'), ['assembly_id'],
                              unique=False)
        batch_op.create_index('uq_badges_active_delegate', ['delegate_id'], unique=True,
                              sqlite_where=sa.text('revoked_at IS NULL'),
                              postgresql_where=sa.text('revoked_at IS NULL'))
    op.create_table(
        'checkins',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('assembly_id', sa.Integer(), nullable=False),
        sa.Column('delegate_id', sa.Integer(), nullable=False),
        sa.Column('checked_in_at', UTCDateTime(), nullable=False),
        sa.Column('recorded_at', UTCDateTime(), nullable=False),
        sa.Column('by_user_id', sa.Integer(), nullable=True),
        sa.Column('via', sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(['assembly_id'], ['assemblies.id'],
                                name=op.f('fk_checkins_assembly_id_assemblies'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['by_user_id'], ['users.id'],
                                name=op.f('fk_checkins_by_user_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['delegate_id'], ['delegates.id'],
                                name=op.f('fk_checkins_delegate_id_delegates'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_checkins')),
        sa.UniqueConstraint('delegate_id', name=op.f('uq_checkins_delegate_id')),
    )
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkins_assembly_id'), ['assembly_id'],
                              unique=False)
    op.create_table(
        'checkin_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('assembly_id', sa.Integer(), nullable=False),
        sa.Column('delegate_id', sa.Integer(), nullable=False),
        sa.Column('action', sa.Enum('check_in', 'undo', name='checkin_action',
                                    native_enum=False, create_constraint=True, length=32),
                  nullable=False),
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.Column('by_user_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['assembly_id'], ['assemblies.id'],
                                name=op.f('fk_checkin_events_assembly_id_assemblies'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['by_user_id'], ['users.id'],
                                name=op.f('fk_checkin_events_by_user_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['delegate_id'], ['delegates.id'],
                                name=op.f('fk_checkin_events_delegate_id_delegates'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_checkin_events')),
    )
    with op.batch_alter_table('checkin_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkin_events_assembly_id'), ['assembly_id'],
                              unique=False)
    op.create_table(
        'badge_jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('assembly_id', sa.Integer(), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.Enum('queued', 'running', 'done', 'failed',
                                    name='badge_job_status', native_enum=False,
                                    create_constraint=True, length=32), nullable=False),
        sa.Column('layout', sa.Enum('sheet', 'single', name='badge_layout', native_enum=False,
                                    create_constraint=True, length=32), nullable=False),
        sa.Column('scope', sa.JSON(), nullable=False),
        sa.Column('progress', sa.Integer(), nullable=False),
        sa.Column('badges', sa.Integer(), nullable=False),
        sa.Column('path', sa.String(length=500), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('started_at', UTCDateTime(), nullable=True),
        sa.Column('finished_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['assembly_id'], ['assemblies.id'],
                                name=op.f('fk_badge_jobs_assembly_id_assemblies'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'],
                                name=op.f('fk_badge_jobs_requested_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_badge_jobs')),
    )
    with op.batch_alter_table('badge_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_badge_jobs_assembly_id'), ['assembly_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_badge_jobs_status'), ['status'], unique=False)
    op.create_table(
        'staff_assignments',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('assembly_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['assembly_id'], ['assemblies.id'],
                                name=op.f('fk_staff_assignments_assembly_id_assemblies'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_staff_assignments_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'assembly_id', name=op.f('pk_staff_assignments')),
    )


def downgrade() -> None:
    op.drop_table('staff_assignments')
    op.drop_table('badge_jobs')
    op.drop_table('checkin_events')
    op.drop_table('checkins')
    op.drop_table('badges')
    op.execute("DELETE FROM api_tokens WHERE user_id IN "
               "(SELECT id FROM users WHERE role = 'staff')")
    op.execute("DELETE FROM users WHERE role = 'staff'")
    _set_roles(OLD_ROLES)
