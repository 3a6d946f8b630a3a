"""The question's state machine: every allowed move and every forbidden one, from a table."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.migrate import upgrade
from bot.services.question_states import IllegalMove, may_move, move, note, submit
from models import EventKind, Question, QuestionEvent, QuestionStatus, User
from models.database import create_engine, create_sessionmaker

S = QuestionStatus
SUB, TRI, DEL, INF, ANS, CLO = (
    S.SUBMITTED,
    S.TRIAGE,
    S.DELIVERED,
    S.INFO_REQUESTED,
    S.ANSWERED,
    S.CLOSED,
)
# Written out by hand, row by row: from → the statuses that may follow. Not derived from the
# code's table, so a change there has to be made here too, on purpose.
EXPECTED: dict[QuestionStatus | None, set[QuestionStatus]] = {
    None: {SUB},
    SUB: {SUB, TRI, DEL, INF, ANS, CLO},
    TRI: {SUB, TRI, INF, ANS, CLO},
    DEL: {SUB, TRI, INF, ANS, CLO},
    INF: {SUB, TRI, DEL, INF, ANS, CLO},
    ANS: {SUB, TRI, INF, ANS, CLO},
    CLO: {SUB, TRI},
}
PAIRS = [(old, new) for old in EXPECTED for new in QuestionStatus]


@pytest.mark.parametrize(("old", "new"), PAIRS, ids=[f"{o}->{n}" for o, n in PAIRS])
def test_the_table(old: QuestionStatus | None, new: QuestionStatus) -> None:
    assert may_move(old, new) is (new in EXPECTED[old])


async def test_a_move_sets_the_status_and_writes_history_and_a_forbidden_one_changes_nothing(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        async with create_sessionmaker(engine).begin() as session:
            resident = User(telegram_id=1, display_name="Anna")
            session.add(resident)
            await session.flush()
            question = Question(resident_id=resident.id, text="Waar blijft het grofvuil?")
            await submit(session, question, resident.id, text=question.text)
            move(session, question, DEL, EventKind.DELIVERED, None)
            move(session, question, INF, EventKind.INFO_REQUESTED, None, text="Welke straat?")
            with pytest.raises(IllegalMove):
                submit_again = Question(resident_id=resident.id, text="x", status=SUB)
                await submit(session, submit_again, resident.id, text="x")
            move(session, question, CLO, EventKind.CLOSED, None)
            with pytest.raises(IllegalMove):
                move(session, question, DEL, EventKind.DELIVERED, None)
            assert question.status is CLO
            note(session, question, EventKind.FEEDBACK, resident.id, text="Dank!")
            await session.flush()
            rows = (
                await session.scalars(
                    select(QuestionEvent)
                    .where(QuestionEvent.question_id == question.id)
                    .order_by(QuestionEvent.id)
                )
            ).all()
        assert [(r.kind, r.status) for r in rows] == [
            (EventKind.CREATED, SUB),
            (EventKind.DELIVERED, DEL),
            (EventKind.INFO_REQUESTED, INF),
            (EventKind.CLOSED, CLO),
            (EventKind.FEEDBACK, CLO),
        ]
        assert rows[0].text == "Waar blijft het grofvuil?"
    finally:
        await engine.dispose()
