"""draft keys: saving an idea or sending a question is idempotent

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The key of the draft a row was saved from (NULL for rows from before, imports, erasure):
# unique, so a second save of one draft finds the first row. A column and an index need no
# table rebuild on SQLite.
TABLES = ("initiatives", "questions")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("draft_key", sa.String(length=32), nullable=True))
        op.create_index(op.f(f"ix_{table}_draft_key"), table, ["draft_key"], unique=True)


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(op.f(f"ix_{table}_draft_key"), table_name=table)
        # Not batch mode: a table rebuilt from reflection would lose SQLite's AUTOINCREMENT
        # (0008); SQLite drops a column natively since 3.35.
        op.drop_column(table, "draft_key")
