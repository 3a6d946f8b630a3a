"""embeddings: a sentence vector per initiative, kept in step like normalized

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Existing initiatives get their vectors at the next start (MatchingService.reembed), which
# needs the model; a migration does not.


def upgrade() -> None:
    op.create_table(
        "initiative_vectors",
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_initiative_vectors_initiative_id_initiatives"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("initiative_id", name=op.f("pk_initiative_vectors")),
    )


def downgrade() -> None:
    op.drop_table("initiative_vectors")
