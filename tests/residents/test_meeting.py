"""The meeting place of an initiative (/groep): the initiator and everyone who joined write to
each other through the bot, by name only; leaving, the initiator's list, a blocked member, an
erasure, reports and a moderator's hide, and presses on groups that are not one's own."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from bot.i18n import translator
from handlers.dispatch import TelegramSender, dispatch_tick
from handlers.residents import privacy
from handlers.residents.introductions import send_join_notices
from handlers.residents.meeting import HIDE, LEAVE, MEMBERS, NOTE, OPEN, REPORT, WRITE
from models import MeetingPost, ScheduledWork, Supporter, User, WorkState
from models.base import utcnow
from tests.flows import answer_until_summary, onboard, save_idea
from tests.harness import BotHarness, Person
from tests.moderators.test_moderation import post_bot  # noqa: F401 (a fixture)
from tests.questions_support import MODERATOR_ID

STALE = translator("nl")("common.stale_button")
TITLE = "Hondenspeeltuin in het park"


async def count(bot: BotHarness, model: type, *where: object) -> int:
    async with bot.app.bot_data["sessions"]() as session:
        query = select(func.count()).select_from(model)
        return await session.scalar(query.where(*where) if where else query)


async def join(bot: BotHarness, who: Person) -> None:
    """Start a look-alike idea and press "hetzelfde, ik doe mee" on Anna's."""
    await answer_until_summary(bot, who, "Speeltuin voor honden")
    await bot.press(who, "Opslaan")
    await bot.press(who, "hetzelfde, ik doe mee")
    assert "Je doet nu mee" in bot.replies(who)[-2].text
    await bot.press(who, "Overslaan")  # no note for Anna
    assert bot.replies(who)[-1].buttons == [("👥 Naar de groep", OPEN.build(1))]


async def group_of_three(bot: BotHarness) -> tuple[Person, Person, Person]:
    """Anna's initiative #1, joined by Bram and by Cara (who has a @username)."""
    anna = bot.person(1001, "Anna", username="anna_ijm")
    bram = bot.person(1002, "Bram")
    cara = bot.person(1003, "Cara", username="cara_v")
    for who in (anna, bram, cara):
        await onboard(bot, who)
    await save_idea(bot, anna, TITLE)
    await join(bot, bram)
    await join(bot, cara)
    return anna, bram, cara


async def write(bot: BotHarness, who: Person, text: str) -> int:
    """Open the group, press "Bericht aan de groep" and send `text`; returns the call count
    from before the text, to read what it caused."""
    await bot.send(who, "/groep")
    await bot.press(who, "Bericht aan de groep")
    before = len(bot.request.calls)
    await bot.send(who, text)
    return before


def relayed(bot: BotHarness, who: Person, since: int) -> list[str]:
    return [c.text for c in bot.replies(who, since=since) if c.text.startswith("💬")]


async def test_a_post_reaches_the_others_by_name_and_without_contact_details(
    bot: BotHarness,
) -> None:
    anna, bram, cara = await group_of_three(bot)
    await bot.send(bram, "/groep")
    menu = bot.replies(bram)[-1]
    assert f"Groep <b>{TITLE}</b>. Er doen 3 mensen mee." in menu.text
    assert [label for label, _ in menu.buttons] == [
        "✉️ Bericht aan de groep",
        "📝 Stel je voor",
        "Niet meer meedoen",
    ]

    since = await write(bot, bram, "Zaterdag om tien uur bij het hek?")
    assert bot.last_text(bram) == "Je bericht gaat naar 2 mensen in de groep."
    for who in (anna, cara):
        [text] = relayed(bot, who, since)
        assert (
            text
            == f"💬 <b>Bram</b> in de groep <b>{TITLE}</b>:\n\nZaterdag om tien uur bij het hek?"
        )
        [message] = [c for c in bot.replies(who, since=since) if c.text == text]
        assert [data for _, data in message.buttons] == [WRITE.build(1), REPORT.build(1, "ask")]
    assert relayed(bot, bram, since) == []  # no copy for the one who wrote it

    # Anna answers from the post she received; her and Cara's @usernames travel nowhere.
    await bot.press(anna, "Antwoord aan de groep")
    since = len(bot.request.calls)
    await bot.send(anna, "Goed plan, ik neem koffie mee.")
    assert relayed(bot, bram, since) == [
        f"💬 <b>Anna</b> in de groep <b>{TITLE}</b>:\n\nGoed plan, ik neem koffie mee."
    ]
    assert len(relayed(bot, cara, since)) == 1
    for call in bot.calls("sendMessage"):
        if call.chat_id != anna.id:
            assert "anna_ijm" not in call.text
        if call.chat_id != cara.id:
            assert "cara_v" not in call.text
        assert "tg://user" not in call.text

    # Stored once, sent once: the dispatch loop finds nothing left to send.
    assert await count(bot, MeetingPost) == 2
    assert await count(bot, ScheduledWork, ScheduledWork.state == WorkState.DONE) == 4
    assert (await dispatch_tick(bot.context())).sent == 0


async def test_joining_and_being_joined_lead_to_the_group(bot: BotHarness) -> None:
    anna, bram, _ = await group_of_three(bot)
    told = [c for c in bot.replies(anna) if "doet iemand mee" in c.text]
    assert [c.buttons for c in told] == [[("👥 Naar de groep", OPEN.build(1))]] * 2
    await bot.press(bram, "Naar de groep")
    assert f"Groep <b>{TITLE}</b>. Er doen 3 mensen mee." in bot.last_text(bram)
    await bot.press(anna, "Naar de groep")
    assert f"Groep van je idee <b>{TITLE}</b>" in bot.last_text(anna)


async def test_posts_are_at_most_1000_characters_and_text_only(bot: BotHarness) -> None:
    anna, bram, _ = await group_of_three(bot)
    await write(bot, bram, "x" * 1001)
    assert "Je bericht is 1001 tekens. Dat is te lang: hoogstens 1000." in bot.last_text(bram)
    await bot.send_sticker(bram)
    assert bot.last_text(bram) == "Stuur alleen tekst, of stop met /annuleer."
    since = len(bot.request.calls)
    await bot.send(bram, "<b>Ja</b> " + "y" * 990)  # still writing: 1,000 characters go
    assert bot.last_text(bram) == "Je bericht gaat naar 2 mensen in de groep."
    assert await count(bot, MeetingPost) == 1
    # What a member typed is shown as typed, never as markup.
    [text] = relayed(bot, anna, since)
    assert text.endswith("\n\n&lt;b&gt;Ja&lt;/b&gt; " + "y" * 990)


async def test_annuleer_while_writing_posts_nothing(bot: BotHarness) -> None:
    _, bram, _ = await group_of_three(bot)
    await bot.send(bram, "/groep")
    await bot.press(bram, "Bericht aan de groep")
    [stopped] = await bot.send(bram, "/annuleer")
    assert stopped.text == "Gestopt. Er is niets verstuurd."
    # Stopped: the next text is no post.
    await bot.send(bram, "Tot zaterdag!")
    assert await count(bot, MeetingPost) == 0


async def test_leaving_is_confirmed_and_ends_the_posts(bot: BotHarness) -> None:
    anna, bram, cara = await group_of_three(bot)
    await bot.send(cara, "/groep")
    await bot.press(cara, "Niet meer meedoen")
    assert "Wil je niet meer meedoen met <b>Hondenspeeltuin" in bot.last_text(cara)
    await bot.press(cara, "Nee, ik blijf")
    assert "Je doet nog mee" in bot.last_text(cara)
    assert await count(bot, Supporter) == 2

    await bot.send(cara, "/groep")
    await bot.press(cara, "Niet meer meedoen")
    await bot.press(cara, "Ja, ik doe niet meer mee")
    assert "Je doet niet meer mee met <b>Hondenspeeltuin" in bot.last_text(cara)
    assert await count(bot, Supporter) == 1

    since = await write(bot, bram, "Wie komt er zaterdag?")
    assert bot.last_text(bram) == "Je bericht gaat naar 1 persoon in de groep."
    assert len(relayed(bot, anna, since)) == 1
    assert relayed(bot, cara, since) == []
    # Cara is out: her group is gone, and so is the button she still has.
    await bot.send(cara, "/groep")
    assert "Je doet nog niet mee met een idee" in bot.last_text(cara)
    await bot.press_data(cara, WRITE.build(1))
    assert bot.answers()[-1] == STALE

    # The initiator has no "Niet meer meedoen", and a forged one changes nothing.
    await bot.send(anna, "/groep")
    assert "Niet meer meedoen" not in [label for label, _ in bot.replies(anna)[-1].buttons]
    await bot.forge(anna, LEAVE.build(1, "yes"))
    assert bot.answers()[-1] == STALE


async def test_the_initiator_hears_that_someone_left_but_not_who(bot: BotHarness) -> None:
    anna, bram, cara = await group_of_three(bot)
    before = len(bot.replies(anna))
    await bot.send(cara, "/groep")
    await bot.press(cara, "Niet meer meedoen")
    await bot.press(cara, "Nee, ik blijf")
    assert len(bot.replies(anna)) == before  # staying is no news

    await bot.press(cara, "Niet meer meedoen")
    await bot.press(cara, "Ja, ik doe niet meer mee")
    [notice] = bot.replies(anna)[before:]
    assert notice.text == (
        f"Iemand doet niet meer mee met je idee <b>{TITLE}</b>. Er doen nu 2 mensen mee."
    )
    assert "Cara" not in notice.text and "cara_v" not in notice.text
    assert notice.buttons == [("👥 Naar de groep", OPEN.build(1))]

    await bot.send(bram, "/groep")
    await bot.press(bram, "Niet meer meedoen")
    await bot.press(bram, "Ja, ik doe niet meer mee")
    assert bot.last_text(anna) == (
        f"Iemand doet niet meer mee met je idee <b>{TITLE}</b>. Verder doet er nu niemand mee."
    )
    assert len(bot.replies(anna)) == before + 2


async def test_a_join_the_initiator_never_heard_of_leaves_without_news(bot: BotHarness) -> None:
    anna, bram = bot.person(1001, "Anna"), bot.person(1002, "Bram")
    for who in (anna, bram):
        await onboard(bot, who)
    await save_idea(bot, anna, TITLE)
    before = len(bot.replies(anna))
    await answer_until_summary(bot, bram, "Speeltuin voor honden")
    await bot.press(bram, "Opslaan")
    await bot.press(bram, "hetzelfde, ik doe mee")
    # Bram leaves before answering the note question (a press from an earlier message): Anna
    # was not told of the join, so she is not told of the leave, now or by the job later.
    await bot.press_data(bram, LEAVE.build(1, "yes"))
    assert "niet meer mee" in bot.last_text(bram)
    with time_machine.travel(utcnow() + timedelta(hours=1), tick=False):
        assert await send_join_notices(bot.context()) == 0
    assert len(bot.replies(anna)) == before


async def test_a_member_who_leaves_while_writing_cannot_post(bot: BotHarness) -> None:
    _, bram, cara = await group_of_three(bot)
    await bot.send(cara, "/groep")
    await bot.press(cara, "Bericht aan de groep")
    await bot.press_data(cara, LEAVE.build(1, "yes"))  # from an older confirmation
    before = len(bot.request.calls)
    await bot.send(cara, "Nog één ding!")
    assert bot.last_text(cara) == "Je zit niet (meer) in deze groep. Je bericht is niet verstuurd."
    assert relayed(bot, bram, before) == []
    assert await count(bot, MeetingPost) == 0


async def test_the_initiator_sees_who_is_in_with_their_notes(bot: BotHarness) -> None:
    anna, bram, _ = await group_of_three(bot)
    await bot.send(bram, "/groep")
    await bot.press(bram, "Stel je voor")
    await bot.send(bram, "Ik kan op zaterdag helpen met het hek.")
    assert bot.last_text(bram) == "Dank je! Wie het idee begon, ziet dit bij je naam."

    await bot.send(anna, "/groep")
    assert "Groep van je idee <b>Hondenspeeltuin in het park</b>" in bot.last_text(anna)
    await bot.press(anna, "Wie doet mee?")
    listing = bot.last_text(anna)
    today = translator("nl").date(utcnow(), bot.config.municipality.tz)
    assert listing == (
        f"Met je idee <b>{TITLE}</b> doen 2 mensen mee:\n\n"
        f"• <b>Bram</b>, doet mee sinds {today}\n  <i>Ik kan op zaterdag helpen met het hek.</i>"
        f"\n\n• <b>Cara</b>, doet mee sinds {today}"
    )
    assert "cara_v" not in listing

    # Only the initiator sees the list; the initiator writes no note for themselves.
    await bot.press_data(bram, MEMBERS.build(1))
    assert bot.answers()[-1] == STALE
    await bot.forge(anna, NOTE.build(1))
    assert bot.answers()[-1] == STALE


async def test_a_blocked_member_is_skipped_and_marked(bot: BotHarness) -> None:
    anna, bram, cara = await group_of_three(bot)
    bot.request.block(cara.id)
    since = await write(bot, bram, "Morgen regen, dan zondag?")
    assert len(relayed(bot, anna, since)) == 1
    [refused] = [c for c in bot.calls("sendMessage", since=since) if c.chat_id == cara.id]
    assert refused.refused
    assert await count(bot, User, User.telegram_id == cara.id, User.active.is_(False)) == 1

    # The next post does not try her at all.
    since = await write(bot, bram, "Zondag dan!")
    assert bot.last_text(bram) == "Je bericht gaat naar 1 persoon in de groep."
    assert len(relayed(bot, anna, since)) == 1
    assert [c for c in bot.calls(since=since) if c.chat_id == cara.id] == []


async def test_a_passing_failure_is_sent_later_once(bot: BotHarness) -> None:
    anna, bram, _ = await group_of_three(bot)
    pending = ScheduledWork.state == WorkState.PENDING
    waiting = await count(bot, ScheduledWork, pending)  # the initiative's six-week check-in
    bot.request.failing_chats[anna.id] = (502, "Bad Gateway")
    await write(bot, bram, "Koffie bij mij?")
    assert await count(bot, ScheduledWork, pending) == waiting + 1
    del bot.request.failing_chats[anna.id]
    since = len(bot.request.calls)
    services = bot.app.bot_data["services"]
    later = utcnow() + timedelta(hours=1)
    await services.dispatch.run_due(TelegramSender(bot.context()), later)
    await services.dispatch.run_due(TelegramSender(bot.context()), later)
    assert relayed(bot, anna, since) == [
        f"💬 <b>Bram</b> in de groep <b>{TITLE}</b>:\n\nKoffie bij mij?"
    ]


async def test_the_same_message_is_stored_and_sent_once(bot: BotHarness) -> None:
    await group_of_three(bot)
    rows = await count(bot, ScheduledWork)
    meeting = bot.app.bot_data["services"].meeting
    first = await meeting.post(2, 1, "Hallo allemaal", source="1002:77")
    again = await meeting.post(2, 1, "Hallo allemaal", source="1002:77")
    assert first.ok and len(first.work_ids) == 2
    assert (again.ok, again.reason, again.post_id) == (False, "already", first.post_id)
    assert await count(bot, ScheduledWork) == rows + 2


async def test_erasure_removes_ones_posts_and_export_includes_them(bot: BotHarness) -> None:
    anna, bram, cara = await group_of_three(bot)
    await write(bot, bram, "Ik heb een schep.")
    bot.request.failing_chats[anna.id] = (502, "Bad Gateway")  # Anna's copy waits
    await write(bot, bram, "En een kruiwagen.")
    await write(bot, cara, "Top!")

    export = await bot.app.bot_data["services"].privacy.export(bram.id)
    assert [p["text"] for p in export["meeting_posts"]] == [
        "Ik heb een schep.",
        "En een kruiwagen.",
    ]

    await bot.send(bram, "/privacy")
    await bot.press(bram, privacy.ERASE.build())
    await bot.press(bram, "Ja, wis alles")
    assert "ik ben je vergeten" in bot.last_text(bram)
    async with bot.app.bot_data["sessions"]() as session:
        assert list(await session.scalars(select(MeetingPost.text))) == ["Top!"]

    # Bram's copy that waited is not sent any more (its words are gone); Cara's still goes.
    del bot.request.failing_chats[anna.id]
    since = len(bot.request.calls)
    later = utcnow() + timedelta(hours=1)
    report = await bot.app.bot_data["services"].dispatch.run_due(
        TelegramSender(bot.context()), later
    )
    assert report.cancelled == 1
    assert relayed(bot, anna, since) == [f"💬 <b>Cara</b> in de groep <b>{TITLE}</b>:\n\nTop!"]


async def test_presses_on_someone_elses_group_are_refused(bot: BotHarness) -> None:
    anna, bram, _ = await group_of_three(bot)
    dora = bot.person(1004, "Dora")
    await onboard(bot, dora)
    await bot.send(dora, "/groep 1")
    assert bot.last_text(dora).startswith("Je doet niet mee met idee #1.")
    await write(bot, bram, "Hallo!")

    for data in (WRITE.build(1), NOTE.build(1), MEMBERS.build(1), REPORT.build(1, "ask")):
        await bot.press_data(dora, data)
        assert bot.answers()[-1] == STALE
    await bot.forge(dora, "groep:write:1:2")
    assert bot.answers()[-1] == STALE
    await bot.forge(dora, "groep:write:99999999999999999999")
    assert bot.answers()[-1] == STALE

    # Refused, so not writing: her text is not relayed.
    before = len(bot.request.calls)
    await bot.send(dora, "Mag ik ook meedoen?")
    assert relayed(bot, anna, before) == relayed(bot, bram, before) == []
    assert await count(bot, MeetingPost) == 1


async def test_a_report_reaches_the_moderators_who_hide_the_post(
    post_bot: BotHarness,  # noqa: F811
) -> None:
    bot = post_bot
    anna, bram, cara = await group_of_three(bot)
    moderator = bot.person(MODERATOR_ID, "Mo")
    await onboard(bot, moderator)
    await write(bot, bram, "Koop mijn tweedehands auto!")

    await bot.press(cara, "Melden")
    assert "Dit bericht melden bij de moderatoren?" in bot.last_text(cara)
    await bot.press(cara, "Ja, melden")
    assert bot.last_text(cara) == "Dank je. De moderatoren kijken ernaar."
    notice = bot.replies(moderator)[-1]
    assert "Een bericht in de groep <b>Hondenspeeltuin in het park</b> is gemeld" in notice.text
    assert "Koop mijn tweedehands auto!" in notice.text
    await bot.press_data(cara, REPORT.build(1, "yes"))
    assert bot.last_text(cara) == "Je hebt dit bericht al gemeld."
    # The author cannot report their own, a resident cannot hide.
    await bot.press_data(bram, REPORT.build(1, "yes"))
    assert bot.answers()[-1] == STALE
    await bot.forge(anna, HIDE.build(1))
    assert bot.answers()[-1] == STALE

    await bot.press(moderator, "Bericht verbergen")
    assert "Het bericht is verborgen" in bot.last_text(moderator)
    await bot.press_data(moderator, HIDE.build(1))
    assert "al verborgen" in bot.answers()[-1]
    # Hidden: it cannot be reported any more.
    await bot.press_data(anna, REPORT.build(1, "ask"))
    assert bot.answers()[-1] == STALE


async def test_a_banned_resident_cannot_post(post_bot: BotHarness) -> None:  # noqa: F811
    bot = post_bot
    anna, bram, _ = await group_of_three(bot)
    moderator = bot.person(MODERATOR_ID, "Mo")
    await onboard(bot, moderator)
    await bot.send(bram, "/groep")
    await bot.press(bram, "Bericht aan de groep")
    await bot.send(moderator, "/ban 1002")
    await bot.send(moderator, "Spam.")  # why
    await bot.press(moderator, "Blokkeren")
    before = len(bot.request.calls)
    await bot.send(bram, "Hallo?")
    assert "geblokkeerd" in bot.last_text(bram) or "moderator" in bot.last_text(bram)
    assert relayed(bot, anna, before) == []
    # Nor through the service, whatever the client sends.
    outcome = await bot.app.bot_data["services"].meeting.post(2, 1, "Hallo?")
    assert (outcome.ok, outcome.reason) == (False, "banned")
    assert await count(bot, MeetingPost) == 0
