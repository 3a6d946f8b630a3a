"""The moderation audit log's one writer: every service that acts for a moderator adds its row
here, inside the transaction of the action itself, so an action and its log line land together
or not at all. /logboek (handlers/moderators/audit.py) reads them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import ModerationAction, ModerationLog


def record_action(
    session: AsyncSession,
    moderator_id: int | None,
    action: ModerationAction,
    kind: str,
    target_id: int,
    **detail: Any,
) -> None:
    session.add(
        ModerationLog(
            moderator_id=moderator_id,
            action=action,
            target_kind=kind,
            target_id=target_id,
            detail=detail,
        )
    )
