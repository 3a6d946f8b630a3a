"""Reporting an initiative with the button under a /zoek page: pick it, confirm, and the report
counts like /meld; forged, stale and hidden ones are refused."""

from __future__ import annotations

from bot.i18n import translator
from handlers.residents import report as meld
from handlers.residents import search as zoek
from models import Visibility
from tests.flows import onboard
from tests.harness import BotHarness
from tests.moderators.test_moderation import people, post_bot, submit, visibility

__all__ = ["post_bot"]

STALE = translator("nl")("common.stale_button")


async def test_report_from_the_search_page(post_bot: BotHarness) -> None:
    bot = post_bot
    anna, bob, moderator = await people(bot)
    number = await submit(bot, anna, "Hondenspeeltuin & <b>meer</b>")
    await bot.send(bob, "/zoek hondenspeeltuin")
    page = bot.replies(bob)[-1]
    assert ("⚠️ Een idee melden…", zoek.REPORT_CHOICE.build()) in page.buttons

    await bot.press(bob, zoek.REPORT_CHOICE.build())
    [edit] = bot.calls("editMessageReplyMarkup")[-1:]
    labels = [b["text"] for row in edit.params["reply_markup"]["inline_keyboard"] for b in row]
    # The title as typed: a button label is plain text.
    assert labels == [f"#{number} Hondenspeeltuin & <b>meer</b>", "‹ Terug"]

    [confirm] = [c for c in await bot.press_data(bob, meld.REPORT.build("ask", number)) if c.text]
    assert "Hondenspeeltuin &amp; &lt;b&gt;meer&lt;/b&gt;" in confirm.text
    assert f"/meld {number}" in confirm.text
    [no] = [c for c in await bot.press(bob, "Nee, toch niet") if c.text]
    assert "niets gemeld" in no.text

    await bot.press_data(bob, meld.REPORT.build("ask", number))
    [thanks] = [c for c in await bot.press(bob, "Ja, melden") if c.method == "sendMessage"]
    assert f"de moderatoren kijken naar idee #{number}" in thanks.text
    await bot.press_data(bob, meld.REPORT.build("yes", number))  # a second time
    assert "al gemeld" in bot.last_text(bob)

    # Anna cannot report her own.
    await bot.press_data(anna, meld.REPORT.build("yes", number))
    assert "van jezelf" in bot.last_text(anna)

    # A second resident's report hides it (hide_after_reports = 2) and tells the moderators.
    carla = bot.person(103, "Carla")
    await onboard(bot, carla)
    await bot.press_data(carla, meld.REPORT.build("yes", number))
    assert await visibility(bot, number) is Visibility.HIDDEN
    assert f"#{number}" in bot.last_text(moderator)


async def test_forged_and_hidden_report_buttons_are_refused(post_bot: BotHarness) -> None:
    bot = post_bot
    anna, bob, moderator = await people(bot)
    number = await submit(bot, anna)
    # Odd digits ("²" passes str.isdigit()) and ids no column holds are refused, not errors.
    huge = "9" * 20
    for data in (
        meld.REPORT.build("ask", 999),
        "meld:yes:abc",
        "meld:maybe:1",
        "meld:",
        "meld:ask:²",
        f"meld:ask:{huge}",
    ):
        await bot.forge(bob, data)
        assert bot.answers()[-1] == STALE
    for text in ("/meld ²", f"/meld {huge}", "/meld ١٢"):
        [usage] = await bot.send(bob, text)
        assert "Stuur /meld met het nummer" in usage.text
    for text in (f"/ban {huge}", "/ban ²"):
        [unknown] = await bot.send(moderator, text)
        assert "Ik ken niemand als" in unknown.text
    [status] = await bot.send(moderator, f"/status {huge}")
    assert "/status &lt;nummer&gt;" in status.text
    await bot.send(moderator, f"/verberg {number}")
    before = len(bot.request.calls)
    await bot.press_data(bob, meld.REPORT.build("ask", number))
    assert bot.answers()[-1] == STALE
    assert not bot.replies(bob, since=before)  # the hidden title is not shown

    # The way back from the choice restores the page.
    await bot.send(moderator, "/wachtrij")
    await bot.press(moderator, "Terugzetten")
    await bot.send(bob, "/zoek hondenspeeltuin")
    await bot.press(bob, zoek.REPORT_CHOICE.build())
    page_edits = len(bot.calls("editMessageText"))
    await bot.press_data(bob, zoek.PAGE.build(0))
    assert len(bot.calls("editMessageText")) == page_edits + 1
