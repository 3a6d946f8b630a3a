"""/mijn (/mine) in the resident's own words: each question with what was asked and a plain
status with its day, each idea with how many joined; a long list comes in pages."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select

from handlers.fitting import TEXT_MAX, visible_length
from handlers.residents import initiative as idee
from handlers.residents import meeting
from handlers.residents import mine as mijn
from models import CivilServant, EventKind, Question, QuestionEvent, QuestionStatus, User
from tests.flows import answer_until_summary, onboard, save_idea
from tests.harness import BotHarness, Person

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 12, 14, 10, 0, tzinfo=AMS)  # a Monday
LONG = (
    "Het grofvuil naast de ondergrondse container aan de Kennemerlaan is al een week niet "
    "opgehaald en nu waait het karton over de hele straat, tot in de tuinen van de buren."
)


async def user_id(bot: BotHarness, who: Person) -> int:
    user = await bot.app.bot_data["services"].users.get(who.id)
    return user.id


async def add_questions(bot: BotHarness, resident: int, servant_user: int) -> None:
    """One question in each state a resident can see, the newest last."""
    async with bot.app.bot_data["sessions"].begin() as session:
        servant = CivilServant(user_id=servant_user, name="Piet", department="Afval")
        session.add(servant)
        await session.flush()

        def question(text: str, status: QuestionStatus, **values: object) -> Question:
            values.setdefault("created_at", datetime(2026, 12, 1, 9, 0, tzinfo=AMS))
            return Question(resident_id=resident, text=text, status=status, **values)

        rows = [
            question("Wanneer wordt het gras gemaaid?", QuestionStatus.CLOSED),
            question(
                "Mag ik een straatfeest houden?",
                QuestionStatus.ANSWERED,
                assignee_id=servant.id,
            ),
            question("Waar meld ik een losse stoeptegel?", QuestionStatus.TRIAGE),
            question(
                "Kan de lantaarnpaal weer aan?",
                QuestionStatus.INFO_REQUESTED,
                assignee_id=servant.id,
            ),
            question(
                LONG,
                QuestionStatus.DELIVERED,
                assignee_id=servant.id,
                deadline_at=datetime(2026, 12, 18, 17, 0, tzinfo=AMS),
            ),
            question(
                "Komt er een laadpaal in de straat?",
                QuestionStatus.DELIVERED,
                assignee_id=servant.id,
                deadline_at=datetime(2027, 1, 8, 17, 0, tzinfo=AMS),
            ),
        ]
        session.add_all(rows)
        await session.flush()
        session.add(
            QuestionEvent(
                question_id=rows[1].id,
                kind=EventKind.ANSWERED,
                status=QuestionStatus.ANSWERED,
                at=datetime(2026, 12, 11, 15, 0, tzinfo=AMS),
            )
        )


async def test_questions_in_their_own_words_with_a_plain_status(bot: BotHarness) -> None:
    anna, piet = bot.person(1001, "Anna"), bot.person(2001, "Piet")
    await onboard(bot, anna)
    await onboard(bot, piet)
    await add_questions(bot, await user_id(bot, anna), await user_id(bot, piet))
    with time_machine.travel(NOW, tick=False):
        [listing] = await bot.send(anna, "/mijn")
    text = listing.text
    assert "<b>Jouw vragen aan de gemeente</b> (6)" in text
    # What was asked, cut at about 120 characters.
    assert "<i>Het grofvuil naast de ondergrondse container aan de Kennemerlaan" in text
    assert LONG not in text and "…</i>" in text
    assert "Status: bij een ambtenaar, antwoord uiterlijk vrijdag 18 december\n" in text + "\n"
    # Another year: the year is said.
    assert "antwoord uiterlijk vrijdag 8 januari 2027" in text
    assert "<i>Waar meld ik een losse stoeptegel?</i>\nStatus: we zoeken de juiste collega" in text
    assert "Status: de ambtenaar wacht op jouw antwoord" in text
    assert (
        "<i>Mag ik een straatfeest houden?</i>\nStatus: beantwoord op vrijdag 11 december" in text
    )
    assert "<i>Wanneer wordt het gras gemaaid?</i>\nStatus: gesloten" in text
    # Newest first.
    assert text.index("laadpaal") < text.index("gras gemaaid")


async def test_ideas_say_how_many_joined_and_when_they_were_sent(bot: BotHarness) -> None:
    anna, bram = bot.person(1001, "Anna"), bot.person(1002, "Bram")
    await onboard(bot, anna)
    await onboard(bot, bram)
    with time_machine.travel(NOW, tick=False):
        await save_idea(bot, anna, "Hondenspeeltuin in het park")
        [alone] = await bot.send(anna, "/mijn")
        assert "Status: idee · nog niemand doet mee · ingestuurd op maandag 14 december" in (
            alone.text
        )
        # Nobody in its meeting place yet: only the status button, and what it does.
        assert alone.buttons == [("✏️ #1", mijn.STATUS.build(1))]
        assert alone.text.endswith("✏️ status wijzigen")
        await answer_until_summary(bot, bram, "Speeltuin voor honden")
        await bot.press(bram, "Opslaan")
        await bot.press(bram, idee.JOIN.build(1))
        await bot.press(bram, "Overslaan")
        [own] = await bot.send(anna, "/mijn")
        assert "Status: idee · 1 persoon doet mee" in own.text
        [joined] = await bot.send(bram, "/mine")  # the English name
    assert "<b>Ideeën waar je aan meedoet</b>" in joined.text
    assert "Hondenspeeltuin in het park" in joined.text and "1 persoon doet mee" in joined.text
    # A button to each meeting place with people in it: the initiator's and the one joined.
    assert own.buttons == [("✏️ #1", mijn.STATUS.build(1)), ("👥 #1", meeting.OPEN.build(1))]
    assert own.text.endswith("✏️ status wijzigen · 👥 naar de groep")
    assert joined.buttons == [("👥 #1", meeting.OPEN.build(1))]
    assert joined.text.endswith("👥 naar de groep")
    await bot.press(bram, "👥 #1")
    assert "Hondenspeeltuin in het park" in bot.last_text(bram)
    assert "Niet meer meedoen" in str(bot.replies(bram)[-1].buttons)
    # A year later, the year is said.
    with time_machine.travel(datetime(2027, 2, 1, 10, 0, tzinfo=AMS), tick=False):
        [later] = await bot.send(anna, "/mijn")
    assert "ingestuurd op maandag 14 december 2026" in later.text


async def test_a_long_list_comes_in_pages(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    title = "Een hele lange titel over een speeltuin voor alle kinderen in de wijk " * 2
    for number in range(mijn.SHOWN):
        await save_idea(bot, anna, f"{number:02d} {title}"[:120])
    async with bot.app.bot_data["sessions"].begin() as session:
        resident = await session.scalar(select(User.id).where(User.telegram_id == anna.id))
        session.add_all(
            Question(resident_id=resident, text=LONG * 4, status=QuestionStatus.TRIAGE)
            for _ in range(mijn.SHOWN)
        )
    [first] = await bot.send(anna, "/mijn")
    assert visible_length(first.text) <= TEXT_MAX
    assert "Pagina 1 van " in first.text
    assert first.text.startswith("<b>Jouw ideeën</b> (15)")
    assert ("Volgende ▶️", mijn.PAGE.build(1)) in first.buttons
    # The status buttons of the ideas on this page, and only those.
    on_page = [d for _, d in first.buttons if mijn.STATUS.parse(d)]
    assert on_page and all(f"#{mijn.STATUS.one(d)} " in first.text for d in on_page)

    pages = int(first.text.rsplit("Pagina 1 van ", 1)[1].split()[0])
    seen = [first.text]
    for number in range(1, pages):
        calls = await bot.press(anna, mijn.PAGE.build(number))
        [edit] = [c for c in calls if c.method == "editMessageText"]
        assert visible_length(edit.text) <= TEXT_MAX
        assert f"Pagina {number + 1} van {pages}" in edit.text
        seen.append(edit.text)
    everything = "\n".join(seen)
    assert everything.count("we zoeken de juiste collega") == mijn.SHOWN
    assert all(f"{n:02d} Een hele lange titel" in everything for n in range(mijn.SHOWN))
    # A forged page number shows the last page; forged data is refused.
    await bot.press_data(anna, mijn.PAGE.build(999))
    assert f"Pagina {pages} van {pages}" in bot.calls("editMessageText")[-1].text
    await bot.forge(anna, "mijn:page:x")
    assert bot.answers()[-1].startswith("Deze knop werkt niet meer")
