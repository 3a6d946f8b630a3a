"""routing examples: labelled questions this municipality's traffic taught the classifier

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# moderation_log.action gains "forget_example": a non-native enum without a CHECK constraint,
# a plain VARCHAR(16) in the database, so that needs no change here.


def upgrade() -> None:
    op.create_table(
        "routing_examples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic_key", sa.String(length=100), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "asked",
                "corrected",
                "forwarded",
                "triage",
                "imported",
                name="examplesource",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("vector", sa.LargeBinary(), nullable=True),
        sa.Column("model", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["questions.id"],
            name=op.f("fk_routing_examples_question_id_questions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_examples")),
        sa.UniqueConstraint("question_id", name=op.f("uq_routing_examples_question_id")),
        # Ids travel in undo buttons: never handed out twice (models.base.NEVER_REUSED).
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_routing_examples_created_at"), "routing_examples", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_routing_examples_created_at"), table_name="routing_examples")
    op.drop_table("routing_examples")
