"""/zoek (/search): found ideas can be joined or their initiator met, right from the results;
/zoek alone browses the newest ideas in one's own kern; "Zoek op woorden" takes the next line."""

from __future__ import annotations

from sqlalchemy import func, select, update

from handlers.residents import search as zoek
from models import Initiative, InitiativeStatus, Introduction, MeetingNote, Supporter, Visibility
from tests.flows import onboard, save_idea
from tests.harness import BotHarness, Person

REPAIR = "Eens per maand samen kapotte spullen repareren, met koffie erbij."


async def count(bot: BotHarness, model: type) -> int:
    async with bot.app.bot_data["engine"].connect() as connection:
        return await connection.scalar(select(func.count()).select_from(model))


async def residents(bot: BotHarness) -> tuple[Person, Person]:
    anna = bot.person(1001, "Anna", username="anna_ijm")
    bram = bot.person(1002, "Bram")
    await onboard(bot, anna)
    await onboard(bot, bram)
    return anna, bram


async def set_initiative(bot: BotHarness, number: int, **values: object) -> None:
    async with bot.app.bot_data["sessions"].begin() as session:
        await session.execute(update(Initiative).where(Initiative.id == number).values(**values))


async def test_a_found_idea_can_be_joined_with_a_note(bot: BotHarness) -> None:
    anna, bram = await residents(bot)
    await save_idea(bot, anna, "Hondenspeeltuin in het park")
    [page] = await bot.send(bram, "/zoek hondenspeeltuin")
    assert "#1 <b>Hondenspeeltuin in het park</b>" in page.text
    assert ("🤝 #1 Doe mee", zoek.JOIN.build(1)) in page.buttons
    assert ("👋 #1 Stel me voor", zoek.MEET.build(1)) in page.buttons

    told_anna = len(bot.replies(anna))
    await bot.press(bram, "Doe mee")
    joined, ask = bot.replies(bram)[-2:]
    assert "Je doet nu mee" in joined.text and "/groep" in joined.text
    assert "Hondenspeeltuin in het park" in ask.text and "Overslaan" in ask.buttons[0][0]
    # The typed line is the note, not a new search.
    await bot.send(bram, "Ik heb een hek over.")
    assert "Verstuurd" in bot.last_text(bram)
    [notice] = bot.replies(anna)[told_anna:]
    assert "er doet iemand mee" in notice.text and "Ik heb een hek over." in notice.text
    assert await count(bot, Supporter) == 1 and await count(bot, MeetingNote) == 1

    # Joining again says so, and asks nothing.
    await bot.press_data(bram, zoek.JOIN.build(1))
    assert bot.last_text(bram) == "Je doet al mee met dat idee."
    await bot.send(bram, "hallo")
    assert "Typ de woorden" not in bot.last_text(bram)
    assert len(bot.replies(anna)) == told_anna + 1


async def test_a_found_idea_s_initiator_can_be_asked_to_meet(bot: BotHarness) -> None:
    anna, bram = await residents(bot)
    await save_idea(bot, anna, "Hondenspeeltuin in het park")
    await bot.send(bram, "/zoek hondenspeeltuin")
    await bot.press(bram, "Stel me voor")
    assert "gevraagd of jullie kennis willen maken" in bot.last_text(bram)
    request = bot.last_text(anna)
    assert "wil graag kennismaken" in request and "Bram" not in request
    assert await count(bot, Introduction) == 1
    await bot.press_data(bram, zoek.MEET.build(1))
    assert "al eens gevraagd" in bot.last_text(bram)


async def test_own_closed_and_hidden_ideas_offer_nothing_or_say_why(bot: BotHarness) -> None:
    anna, bram = await residents(bot)
    await save_idea(bot, anna, "Hondenspeeltuin in het park")
    await save_idea(bot, bram, "Hondenspeeltuin bij de duinen")
    [own] = await bot.send(bram, "/zoek hondenspeeltuin")
    offered = [data for _, data in own.buttons]
    assert zoek.JOIN.build(1) in offered and zoek.JOIN.build(2) not in offered
    assert zoek.MEET.build(2) not in offered
    await bot.press_data(bram, zoek.JOIN.build(2))
    assert bot.last_text(bram) == "Dat is je eigen idee."

    await set_initiative(bot, 1, status=InitiativeStatus.STOPPED)
    [closed] = await bot.send(bram, "/zoek hondenspeeltuin")
    assert "#1 <b>Hondenspeeltuin in het park</b>" in closed.text
    assert zoek.JOIN.build(1) not in [data for _, data in closed.buttons]
    await bot.press_data(bram, zoek.JOIN.build(1))  # the button of the earlier page
    assert "klaar of gestopt" in bot.last_text(bram)

    await set_initiative(bot, 1, status=InitiativeStatus.IDEA, visibility=Visibility.HIDDEN)
    await bot.press_data(bram, zoek.JOIN.build(1))
    assert "niet te zien" in bot.last_text(bram)
    await bot.press_data(bram, zoek.MEET.build(1))
    assert "niet te zien" in bot.last_text(bram)
    await bot.press_data(bram, zoek.JOIN.build(99))
    assert "bestaat niet meer" in bot.last_text(bram)
    assert await count(bot, Supporter) == 0 and await count(bot, Introduction) == 0
    await bot.forge(bram, "zoek:join:x")
    assert bot.answers()[-1].startswith("Deze knop werkt niet meer")


async def test_zoek_alone_browses_the_newest_ideas_in_one_s_own_kern(bot: BotHarness) -> None:
    anna, bram = await residents(bot)
    cara = bot.person(1003, "Cara")
    await onboard(bot, cara, kern="Driehuis")
    [empty] = await bot.send(bram, "/zoek")
    assert "nog geen ideeën in IJmuiden" in empty.text
    assert "Zoek op woorden: typ ze na /zoek" in empty.text

    for number in range(6):
        await save_idea(bot, anna, f"Repair café {number}", REPAIR)
    await save_idea(bot, cara, "Moestuin", "Groenten kweken met de kinderen van de school.")
    await set_initiative(bot, 7, kern="Driehuis")

    [page] = await bot.send(bram, "/zoek")
    assert "<b>Nieuwste ideeën</b> (in IJmuiden)" in page.text
    assert page.text.index("Repair café 5") < page.text.index("Repair café 1")
    assert "Repair café 0" not in page.text and "Moestuin" not in page.text
    assert "Pagina 1 van 2" in page.text and "Zoek op woorden" in page.text
    assert ("🤝 #6 Doe mee", zoek.JOIN.build(6)) in page.buttons
    calls = await bot.press(bram, "Volgende")
    [second] = [c for c in calls if c.method == "editMessageText"]
    assert "Repair café 0" in second.text and "Pagina 2 van 2" in second.text
    calls = await bot.press(bram, "Zoek in alle kernen")
    [everywhere] = [c for c in calls if c.method == "editMessageText"]
    assert "(in alle kernen)" in everywhere.text and "Moestuin" in everywhere.text

    # The English names work too.
    [same] = await bot.send(bram, "/search")
    assert "Nieuwste ideeën" in same.text


async def test_search_by_words_takes_the_next_typed_line(bot: BotHarness) -> None:
    anna, bram = await residents(bot)
    await save_idea(bot, anna, "Hondenspeeltuin in het park")
    await bot.send(bram, "/zoek")
    await bot.press(bram, "Zoek op woorden")
    assert bot.last_text(bram).startswith("Waar zoek je naar?")
    [sticker] = await bot.send_sticker(bram)
    assert "Typ de woorden" in sticker.text
    [found] = await bot.send(bram, "hondenspeeltuin")
    assert "<b>1 idee</b> dat lijkt op <i>hondenspeeltuin</i>" in found.text
    # The search is done: a next line is not a search any more.
    [other] = await bot.send(bram, "hondenspeeltuin")
    assert "lijkt op" not in other.text
    # /annuleer while the words are asked.
    await bot.press(bram, "Zoek op woorden")
    [stopped] = await bot.send(bram, "/annuleer")
    assert stopped.text == "Gestopt met zoeken."
    # /cancel too: the way out of a flow has its English name in every flow.
    await bot.press(bram, "Zoek op woorden")
    [stopped] = await bot.send(bram, "/cancel")
    assert stopped.text == "Gestopt met zoeken."
    [other] = await bot.send(bram, "hondenspeeltuin")
    assert "lijkt op" not in other.text


async def test_zoek_without_results_gets_help(bot: BotHarness) -> None:
    anna, _ = await residents(bot)
    [none] = await bot.send(anna, "/search xyzzy <script>")
    assert "Ik vond geen ideeën die lijken op <i>xyzzy &lt;script&gt;</i>" in none.text
    assert "/idee" in none.text
    assert ("🔎 Zoek op woorden", zoek.WORDS_ASK.build()) in none.buttons
