"""meeting places: posts to an initiative's group, members' notes, reports of posts

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# moderation_log.target_kind gains "meeting_post": a plain VARCHAR(16), no change needed.


def upgrade() -> None:
    op.create_table(
        "meeting_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("hidden_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_meeting_posts_author_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_meeting_posts_initiative_id_initiatives"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_posts")),
        sa.UniqueConstraint("source", name=op.f("uq_meeting_posts_source")),
        # Ids travel in buttons and scheduled work (models.base.NEVER_REUSED).
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_meeting_posts_author_id"), "meeting_posts", ["author_id"], unique=False
    )
    op.create_index(
        op.f("ix_meeting_posts_initiative_id"), "meeting_posts", ["initiative_id"], unique=False
    )
    op.create_table(
        "meeting_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_meeting_notes_initiative_id_initiatives"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_meeting_notes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_notes")),
        sa.UniqueConstraint(
            "initiative_id", "user_id", name=op.f("uq_meeting_notes_initiative_id")
        ),
    )
    op.create_index(
        op.f("ix_meeting_notes_initiative_id"), "meeting_notes", ["initiative_id"], unique=False
    )
    op.create_index(op.f("ix_meeting_notes_user_id"), "meeting_notes", ["user_id"], unique=False)
    op.create_table(
        "meeting_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["meeting_posts.id"],
            name=op.f("fk_meeting_reports_post_id_meeting_posts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["users.id"],
            name=op.f("fk_meeting_reports_reporter_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_reports")),
        sa.UniqueConstraint("post_id", "reporter_id", name=op.f("uq_meeting_reports_post_id")),
    )
    op.create_index(
        op.f("ix_meeting_reports_post_id"), "meeting_reports", ["post_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_meeting_reports_post_id"), table_name="meeting_reports")
    op.drop_table("meeting_reports")
    op.drop_index(op.f("ix_meeting_notes_user_id"), table_name="meeting_notes")
    op.drop_index(op.f("ix_meeting_notes_initiative_id"), table_name="meeting_notes")
    op.drop_table("meeting_notes")
    op.drop_index(op.f("ix_meeting_posts_initiative_id"), table_name="meeting_posts")
    op.drop_index(op.f("ix_meeting_posts_author_id"), table_name="meeting_posts")
    op.drop_table("meeting_posts")
