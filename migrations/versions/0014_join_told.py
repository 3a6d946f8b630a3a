"""joins: when the initiator was told, so a join whose note never comes is still announced

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A nullable column needs no table rebuild on SQLite.
    op.add_column("supporters", sa.Column("told_at", sa.DateTime(timezone=True), nullable=True))
    # The joins from before were announced (or their moment has long passed): the job that tells
    # initiators of unannounced joins must not send them all again.
    op.execute("UPDATE supporters SET told_at = created_at")


def downgrade() -> None:
    # Not batch mode: a table rebuilt from reflection would lose SQLite's AUTOINCREMENT (0008);
    # SQLite drops a column natively since 3.35.
    op.drop_column("supporters", "told_at")
