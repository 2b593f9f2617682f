"""assemblies: the host organisation and the sitting days

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 02:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('assemblies', schema=None) as batch_op:
        # Who hosts (主催 トムスク州), per language; empty: the host city.
        batch_op.add_column(sa.Column('host_organisation', sa.JSON(), nullable=False,
                                      server_default=sa.text("'{}'")))
        # The days the assembly sits (会期 9月5日・6日), ISO dates; empty: every day of the
        # programme's span.
        batch_op.add_column(sa.Column('sitting_days', sa.JSON(), nullable=False,
                                      server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table('assemblies', schema=None) as batch_op:
        batch_op.drop_column('sitting_days')
        batch_op.drop_column('host_organisation')
