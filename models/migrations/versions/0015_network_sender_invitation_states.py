"""the network's sender name (first-run setup); invitations opened and voided

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-03 02:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('networks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sender_name', sa.String(length=120), server_default='',
                                      nullable=False))
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opened_at', UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('voided_at', UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_column('voided_at')
        batch_op.drop_column('opened_at')
    with op.batch_alter_table('networks', schema=None) as batch_op:
        batch_op.drop_column('sender_name')
