"""A ban does not take away a resident's AVG rights: a banned person can still read /privacy,
download their data and erase it. Erasure keeps only the Telegram id with the ban, so that
erasing is not a way around it."""

from __future__ import annotations

from sqlalchemy import select

from handlers.residents import onboarding as onb
from handlers.residents import privacy
from models import BotState, ModerationAction, ModerationLog, User
from tests.harness import BotHarness
from tests.moderators.test_moderation import people, post_bot, submit
from tests.questions_support import services

__all__ = ["post_bot"]


async def test_a_banned_resident_can_read_export_and_erase_but_stays_banned(
    post_bot: BotHarness,
) -> None:
    bot = post_bot
    anna, _, moderator = await people(bot)
    await submit(bot, anna, "Hondenspeeltuin")
    await bot.send(anna, "/idee")  # a conversation left open at the ban
    await bot.send(moderator, "/ban @anna_ij")
    await bot.send(moderator, "Spam.")  # why
    await bot.press(moderator, "Blokkeren")

    # Everything else stays closed to her.
    [refused] = await bot.send(anna, "/idee")
    assert "geblokkeerd" in refused.text
    # Her rights do not.
    [notice] = await bot.send(anna, "/privacy")
    assert "Je rechten" in notice.text and "geblokkeerd" in notice.text
    await bot.press(anna, privacy.EXPORT.build())
    [document] = [c for c in bot.replies(anna) if c.method == "sendDocument"]
    assert document.params.get("caption")
    await bot.send(anna, "/vergeetmij")
    await bot.press(anna, "Ja, wis alles")
    assert "vergeten" in bot.last_text(anna)

    # What is left of her: the Telegram id and the ban, nothing else.
    async with bot.app.bot_data["sessions"]() as session:
        rows = list(await session.scalars(select(User).where(User.telegram_id == anna.id)))
    assert len(rows) == 1
    bare = rows[0]
    assert bare.banned_at is not None and not bare.active
    assert (bare.display_name, bare.username, bare.kern, bare.consent_at) == (None,) * 4
    assert await services(bot).moderation.is_banned(anna.id)
    async with bot.app.bot_data["sessions"]() as session:
        # Nothing ties the bare row to the placeholder that keeps what others built on.
        banned = list(await session.scalars(select(User).where(User.banned_at.is_not(None))))
        assert [u.id for u in banned] == [bare.id]
        log = list(await session.scalars(select(ModerationLog)))
        assert [(e.action, e.target_id) for e in log] == [(ModerationAction.BAN, bare.id)]
        # No conversation state is kept under her Telegram id (the /idee she left open).
        keys = [s.key for s in await session.scalars(select(BotState))]
        assert not [k for k in keys if str(anna.id) in k], keys
    [refused] = await bot.send(anna, "/start")
    assert "geblokkeerd" in refused.text
    # Erasing again finds nothing more to erase and leaves the one row.
    assert not await services(bot).users.erase(anna.id)

    # Unbanned, she starts from scratch like anyone new.
    await bot.send(moderator, f"/unban {anna.id}")
    replies = await bot.send(anna, "/start")
    assert "geblokkeerd" not in replies[-1].text
    assert onb.CONSENT.build("nl") in [data for _, data in replies[-1].buttons]


async def test_erasure_takes_a_residents_words_out_of_the_audit_log(post_bot: BotHarness) -> None:
    bot = post_bot
    anna, _, moderator = await people(bot)
    number = await submit(bot, anna, "Hondenspeeltuin bij Anna thuis")
    await bot.send(moderator, f"/verberg {number}")
    await bot.send(moderator, "/wachtrij")
    await bot.press(moderator, "Titel aanpassen")
    await bot.send(moderator, "Hondenspeeltuin in het park")
    [before] = await bot.send(moderator, "/logboek")
    assert "Anna thuis" in before.text

    await bot.send(anna, "/vergeetmij")
    await bot.press(anna, "Ja, wis alles")
    [after] = await bot.send(moderator, "/logboek")
    # That a moderator acted stays; what she wrote does not.
    assert f"titel aangepast · idee #{number}" in after.text
    assert "Anna thuis" not in after.text and "in het park" not in after.text
