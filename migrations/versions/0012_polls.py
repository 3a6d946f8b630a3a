"""polls: /peiling's questions to an audience and the residents' answers

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "polls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("share_results", sa.Boolean(), nullable=False),
        sa.Column(
            "state",
            sa.Enum("open", "closed", name="pollstate", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("broadcast_id", sa.Integer(), nullable=True),
        sa.Column("result_broadcast_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_polls_author_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcasts.id"],
            name=op.f("fk_polls_broadcast_id_broadcasts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["result_broadcast_id"],
            ["broadcasts.id"],
            name=op.f("fk_polls_result_broadcast_id_broadcasts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_polls")),
        sa.UniqueConstraint("broadcast_id", name=op.f("uq_polls_broadcast_id")),
        sa.UniqueConstraint("result_broadcast_id", name=op.f("uq_polls_result_broadcast_id")),
        # Ids travel in buttons: never handed out twice (models.base.NEVER_REUSED).
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_polls_author_id"), "polls", ["author_id"], unique=False)
    op.create_index("ix_polls_state_closes_at", "polls", ["state", "closes_at"], unique=False)
    op.create_table(
        "poll_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("choice", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["polls.id"],
            name=op.f("fk_poll_answers_poll_id_polls"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_poll_answers_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_answers")),
        sa.UniqueConstraint("poll_id", "user_id", name=op.f("uq_poll_answers_poll_id")),
    )
    op.create_index(op.f("ix_poll_answers_poll_id"), "poll_answers", ["poll_id"], unique=False)
    op.create_index(op.f("ix_poll_answers_user_id"), "poll_answers", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_poll_answers_user_id"), table_name="poll_answers")
    op.drop_index(op.f("ix_poll_answers_poll_id"), table_name="poll_answers")
    op.drop_table("poll_answers")
    op.drop_index("ix_polls_state_closes_at", table_name="polls")
    op.drop_index(op.f("ix_polls_author_id"), table_name="polls")
    op.drop_table("polls")
