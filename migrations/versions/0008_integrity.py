"""integrity: ids never reused, references instead of words in scheduled work

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05

"""

from collections.abc import Sequence

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # filled in by the change this revision is reserved for


def downgrade() -> None:
    pass
