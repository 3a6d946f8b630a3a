"""Telegram's limits: no text leaves the bot longer than Telegram accepts (handlers/fitting.py), and
the in-memory Bot API refuses what Telegram refuses, counted as Telegram counts."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
import time_machine
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.config import ModerationConfig
from handlers.civil_servants import profile as prof
from handlers.fitting import TEXT_MAX, shorten, split
from testing.fake_telegram import utf16_len
from testing.fake_telegram.formatting import render_html
from tests.flows import onboard
from tests.harness import TOKEN, BotHarness, Person, make_config
from tests.moderators.test_moderation import submit
from tests.questions_support import AFVAL, QUESTIONS, ask, invite, local, qbot, tick
from tests.recording_request import Call, RecordingRequest

__all__ = ["qbot"]
EMOJI = "😀"  # outside the BMP: two UTF-16 code units


def visible(call: Call) -> str:
    """What the reader sees of a sent message (HTML parsed as Telegram parses it)."""
    return render_html(call.text)[0]


def delivered(calls: list[Call]) -> list[Call]:
    """The calls Telegram accepted; each must be within its limit (the stand-in refuses)."""
    assert not any(c.refused for c in calls), [c.result for c in calls if c.refused]
    return calls


# --- the stand-in refuses what Telegram refuses ------------------------------------------


@pytest.fixture
async def plain_bot() -> AsyncIterator[tuple[Bot, RecordingRequest]]:
    """PTB's own Bot (no fitting) on the recording request: what reaches the stand-in as is."""
    request = RecordingRequest()
    async with Bot(TOKEN, request=request, get_updates_request=request) as bot:
        yield bot, request


async def test_the_recording_request_counts_as_telegram_counts(
    plain_bot: tuple[Bot, RecordingRequest],
) -> None:
    bot, _ = plain_bot
    html = ParseMode.HTML
    # Tags count nothing, a character reference counts one, an emoji two.
    await bot.send_message(1, "<b>" + "a" * TEXT_MAX + "</b>", parse_mode=html)
    await bot.send_message(1, "&amp;" * TEXT_MAX, parse_mode=html)
    await bot.send_message(1, EMOJI * (TEXT_MAX // 2), parse_mode=html)
    await bot.edit_message_text("b" * TEXT_MAX, 1, 7)
    for too_long in ("a" * (TEXT_MAX + 1), EMOJI * (TEXT_MAX // 2) + "a"):
        with pytest.raises(BadRequest, match="Message is too long"):
            await bot.send_message(1, too_long, parse_mode=html)
        with pytest.raises(BadRequest, match="Message is too long"):
            await bot.edit_message_text(too_long, 1, 7, parse_mode=html)
    await bot.send_photo(1, "AgACAgQ", caption="<i>" + "c" * 1024 + "</i>", parse_mode=html)
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_photo(1, "AgACAgQ", caption="c" * 1025)
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        button = InlineKeyboardButton("x", callback_data="é" * 33)  # 66 bytes
        await bot.send_message(1, "te lang", reply_markup=InlineKeyboardMarkup([[button]]))


# --- the one place that makes texts fit --------------------------------------------------


def test_split_keeps_every_word_and_its_markup_and_each_part_fits() -> None:
    random.seed(11)
    words = [
        "<b>vet &amp; zo</b>",
        "<i>schuin &lt;x&gt;</i>",
        EMOJI * 3,
        "woord",
        "\n",
        "\n\n",
        '<a href="https://velsen.nl/?a=1&amp;b=2">een link met tekst</a>',
        "<blockquote>een citaat\nover twee regels</blockquote>",
    ]
    for _ in range(30):
        text = " ".join(random.choice(words) for _ in range(random.randint(500, 3000)))
        for limit in (100, 1024, TEXT_MAX):
            parts = split(text, limit)
            # Each part is valid HTML (render_html raises otherwise) and fits.
            assert all(utf16_len(render_html(part)[0]) <= limit for part in parts)
            seen = " ".join(render_html(part)[0] for part in parts)
            assert seen.split() == render_html(text)[0].split()
    # Paragraphs stay whole where they can; bold continues in the next part.
    paragraphs = ["<b>" + " ".join(["lang"] * 400) + "</b>" for _ in range(3)]
    parts = split("\n\n".join(paragraphs))
    assert parts == [f"{paragraphs[0]}\n\n{paragraphs[1]}", paragraphs[2]]
    bold = split("<b>" + "x" * 5000 + "</b>")
    assert [len(render_html(p)[0]) for p in bold] == [TEXT_MAX, 5000 - TEXT_MAX]
    assert all(p.startswith("<b>") and p.endswith("</b>") for p in bold)


def test_shorten_ends_in_an_ellipsis_within_the_limit() -> None:
    text = "<i>" + "woord " * 1000 + "</i>"
    short = shorten(text, 1024)
    seen = render_html(short)[0]
    assert utf16_len(seen) <= 1024 and seen.endswith("woord…")
    assert shorten("kort", 1024) == "kort"
    emoji = render_html(shorten(EMOJI * 600, 1024))[0]
    assert utf16_len(emoji) <= 1024 and emoji.endswith("…")


async def test_emoji_near_the_limit_are_sent_whole_or_in_two_parts(bot: BotHarness) -> None:
    assert bot.app is not None
    exactly = EMOJI * (TEXT_MAX // 2)
    await bot.app.bot.send_message(1, exactly)
    [one] = delivered(bot.calls("sendMessage"))
    assert one.text == exactly
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Ja", callback_data="ja")]])
    message = await bot.app.bot.send_message(1, exactly + EMOJI, reply_markup=markup)
    first, second = delivered(bot.calls("sendMessage")[1:])
    assert first.text + second.text == exactly + EMOJI
    # The buttons go under the last part, which is the message the caller gets back.
    assert not first.buttons and second.buttons == [("Ja", "ja")]
    assert message.message_id == second.result["message_id"]


async def test_an_edit_and_a_caption_too_long_are_shortened(bot: BotHarness) -> None:
    assert bot.app is not None
    await bot.app.bot.edit_message_text("woord " * 1000, 1, 7)
    await bot.app.bot.send_photo(1, "AgACAgQ", caption="<b>woord</b> " * 300)
    await bot.app.bot.answer_callback_query("5", text="woord " * 50)
    edit, photo, toast = delivered(bot.calls()[-3:])
    assert utf16_len(visible(edit)) <= TEXT_MAX and visible(edit).endswith("…")
    assert utf16_len(visible(photo)) <= 1024 and visible(photo).endswith("…")
    assert len(toast.params["text"]) <= 200


# --- the flows that outgrew one message ----------------------------------------------------


async def relay_a_long_reply(bot: BotHarness, *, before_reply=None) -> tuple[Person, str, str, int]:
    """Anna answers Piet's request for more information with about 3,000 characters, which go
    to Piet with the whole card: more than one message. Returns Piet, the question, the reply
    and the call number before Anna's reply."""
    anna, piet = bot.person(1001, "Anna"), bot.person(2001, "Piet")
    await onboard(bot, anna)
    await join_as(bot, piet, "Piet de Vries", "Afval en Reiniging", handle="afval")
    question = " ".join([AFVAL] * 26)  # about 2,000 characters, the most a question takes
    reply = " ".join(f"antwoord{n:03d}" for n in range(250))  # about 3,000
    with time_machine.travel(local("2026-06-01 10:00"), tick=False):
        await ask(bot, anna, question)
    await tick(bot, "2026-06-01 14:00")
    with time_machine.travel(local("2026-06-01 15:00"), tick=False):
        await bot.press(piet, "Meer info vragen")
        await bot.send(piet, "Om welke container gaat het precies?")
        await bot.press(piet, "Versturen")
        await bot.press(anna, "Antwoord geven")
        before = len(bot.request.calls)
        if before_reply is not None:
            before_reply(piet)
        await bot.send(anna, reply)
        assert "doorgestuurd" in bot.last_text(anna)
    return piet, question, reply, before


async def test_a_long_reply_with_the_whole_card_reaches_the_civil_servant(
    qbot: BotHarness,
) -> None:
    piet, question, reply, before = await relay_a_long_reply(qbot)
    parts = delivered(qbot.replies(piet, since=before))
    assert len(parts) >= 2
    seen = " ".join(" ".join(visible(part) for part in parts).split())
    assert reply in seen and question in seen  # the whole reply, and the whole card
    assert not parts[0].buttons and any("Sluiten" in label for label, _ in parts[-1].buttons)


async def test_flood_control_on_a_later_part_waits_and_sends_each_part_once(
    qbot: BotHarness,
) -> None:
    def pause_the_second_part(piet: Person) -> None:
        qbot.request.fail_once(
            piet.id,
            after=1,
            status=429,
            description="Too Many Requests: retry after 1",
            retry_after=1,
        )

    piet, question, reply, before = await relay_a_long_reply(
        qbot, before_reply=pause_the_second_part
    )
    calls = qbot.replies(piet, since=before)
    assert [c.refused for c in calls][:3] == [False, True, False]
    accepted = [c.text for c in calls if not c.refused]
    assert len(accepted) == len(set(accepted)) >= 2  # every part once, none twice
    seen = " ".join(" ".join(render_html(text)[0] for text in accepted).split())
    assert reply in seen and question in seen


async def test_a_later_part_refused_never_sends_the_first_again(qbot: BotHarness) -> None:
    def refuse_the_second_part(piet: Person) -> None:
        qbot.request.fail_once(piet.id, after=1, status=502, description="Bad Gateway")

    piet, _, reply, before = await relay_a_long_reply(qbot, before_reply=refuse_the_second_part)
    # A 502 would have the whole message tried again; the first part has arrived, so it is not.
    for at in ("2026-06-01 16:00", "2026-06-01 17:00"):  # a retry would be due by then
        await tick(qbot, at)
    calls = qbot.replies(piet, since=before)
    assert [c.refused for c in calls] == [False, True]
    assert reply.split()[0] in visible(calls[0])


async def join_as(
    bot: BotHarness,
    who: Person,
    name: str,
    department: str,
    *,
    handle: str | None = None,
    introduction: str | None = None,
) -> None:
    """/aanmelden with a fresh code, every kern, the first topic and an own introduction."""
    await bot.send(who, f"/aanmelden {await invite(bot, handle)}")
    await bot.send(who, name)
    await bot.send(who, department)
    await bot.press(who, "Melding openbare ruimte")
    await bot.press(who, prof.TOPICS_DONE.build())
    await bot.press(who, prof.KERNEN_DONE.build())
    await bot.send(who, introduction or f"Ik ben {name} en help je graag.")
    await bot.press(who, prof.BACKUP.build("none"))


async def test_wie_pages_seven_long_introductions(qbot: BotHarness) -> None:
    bot = qbot
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    names = [f"Ambtenaar{n} Jansen" for n in range(7)]
    for n, name in enumerate(names):
        intro = f"Ik ben {name}. " + "Ik werk aan de openbare ruimte in alle kernen. " * 12
        await join_as(bot, bot.person(2001 + n, name), name, "Wijkbeheer", introduction=intro)
    await bot.send(anna, "/wie")
    listed: list[str] = []
    calls = delivered(await bot.press(anna, "IJmuiden"))
    while True:
        [listing] = [c for c in calls if c.method == "editMessageText"]
        assert "IJmuiden" in listing.text and "Pagina" in listing.text
        listed += [name for name in names if f"<b>{name}</b>" in listing.text]
        following = [data for label, data in listing.buttons if "Volgende" in label]
        if not following:
            break
        calls = delivered(await bot.press_data(anna, following[0]))
    assert listed == names  # everyone, once, in order
    back = [data for label, data in listing.buttons if "Vorige" in label]
    assert back and back[0].startswith("wie:k:0:")


@pytest.fixture
async def report_bot(tmp_path: Path, database_url: str) -> AsyncIterator[BotHarness]:
    """Moderation after publication; an initiative hides at the eighth report."""
    config = replace(
        make_config(tmp_path, database_url),
        questions=QUESTIONS,
        moderation=ModerationConfig(mode="post", hide_after_reports=8),
    )
    harness = BotHarness(config)
    await harness.start()
    yield harness
    await harness.stop()
    assert not harness.errors, f"handlers raised: {harness.errors!r}"


async def test_wachtrij_shows_every_long_report_reason(report_bot: BotHarness) -> None:
    bot = report_bot
    anna = bot.person(101, "Anna")
    moderator = bot.person(QUESTIONS.moderators[0], "Mo")
    await onboard(bot, anna)
    await onboard(bot, moderator)
    number = await submit(bot, anna)
    reasons = [f"reden{n} " + "dit hoort hier echt niet, " * 19 for n in range(8)]
    for n, reason in enumerate(reasons):
        reporter = bot.person(300 + n, f"Melder{n}")
        await onboard(bot, reporter)
        await bot.send(reporter, f"/meld {number} {reason}")
    parts = delivered(await bot.send(moderator, "/wachtrij"))
    assert len(parts) >= 2
    seen = "\n".join(visible(part) for part in parts)
    assert all(f"reden{n} " in seen for n in range(8))
    assert any("Terugzetten" in label for label, _ in parts[-1].buttons)
    await bot.press(moderator, "Terugzetten")
