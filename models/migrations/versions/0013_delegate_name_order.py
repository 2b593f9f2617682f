"""delegates' name order and honorific

Revision ID: 0013
Revises: 0008
Create Date: 2026-12-02 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Kept in step with models.names.FAMILY_FIRST_COUNTRIES at the time of this migration.
FAMILY_FIRST = ("JP", "KR", "KP", "CN", "TW", "HK", "MO", "VN", "KH", "HU", "SG")


def upgrade() -> None:
    with op.batch_alter_table('delegates', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'name_order', sa.Enum('family_first', 'given_first', name='name_order',
                                  native_enum=False, create_constraint=True, length=32),
            server_default='given_first', nullable=False))
        batch_op.add_column(sa.Column('honorific', sa.String(length=40), server_default='',
                                      nullable=False))
    # Existing people take the order of their city's country.
    countries = ", ".join(f"'{code}'" for code in FAMILY_FIRST)
    op.execute(
        "UPDATE delegates SET name_order = 'family_first' WHERE delegation_id IN ("
        " SELECT delegations.id FROM delegations JOIN member_cities"
        " ON member_cities.id = delegations.city_id"
        f" WHERE member_cities.country IN ({countries}))")


def downgrade() -> None:
    with op.batch_alter_table('delegates', schema=None) as batch_op:
        batch_op.drop_column('honorific')
        batch_op.drop_column('name_order')
