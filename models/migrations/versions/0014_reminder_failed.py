"""a reminder that cannot be built is marked failed (its note says why)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 02:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSTRAINT = 'reminder_status'  # ck_reminders_reminder_status by the naming convention
BEFORE = "status IN ('active', 'paused', 'sent', 'skipped')"
AFTER = "status IN ('active', 'paused', 'sent', 'skipped', 'failed')"


def _check(condition: str) -> None:
    # The constraint is rebuilt (SQLite: the table is copied by batch mode).
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.drop_constraint(CONSTRAINT, type_='check')
        batch_op.create_check_constraint(CONSTRAINT, condition)


def upgrade() -> None:
    _check(AFTER)


def downgrade() -> None:
    op.execute("UPDATE reminders SET status = 'skipped' WHERE status = 'failed'")
    _check(BEFORE)
