"""/vraag does not ask again what the question already says: the kern, the date, the place and
the number of people are filled in, marked in the summary, and can be asked after all."""

from __future__ import annotations

import time_machine

from handlers.residents import question as vraag
from tests.flows import onboard
from tests.harness import BotHarness, Person
from tests.questions_support import local, qbot, services, texts

__all__ = ["qbot"]
STALE = "Deze knop werkt niet meer"
FEEST = (
    "Wij willen op zaterdag 13 maart 2027 een buurtfeest houden op het Plein 1945 in IJmuiden "
    "met ongeveer 80 mensen"
)
FROM_TEXT = "<i>(uit je vraag)</i>"


async def ask_about_an_event(bot: BotHarness, who: Person, text: str) -> int:
    """/vraag with `text`, on the events topic (chosen by hand if the bot is unsure); returns
    the call count before the text, to look at what came after."""
    await bot.send(who, "/vraag")
    before = len(bot.request.calls)
    await bot.send(who, text)
    if vraag.TOPIC_PICK.build("other") in [data for _, data in bot.replies(who)[-1].buttons]:
        await bot.press(who, vraag.TOPIC_PICK.build("other"))
        mains = [topic.key for topic in services(bot).questions.taxonomy.main_topics]
        await bot.press(who, vraag.MAIN_PICK.build(mains.index("evenementen")))
    return before


async def test_what_the_question_says_is_not_asked_again(qbot: BotHarness) -> None:
    bot = qbot
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna, "Driehuis")
    with time_machine.travel(local("2026-06-01 10:00"), tick=False):
        before = await ask_about_an_event(bot, anna, FEEST)
        said = "\n".join(texts(bot, anna, since=before))
        assert "Over welke kern" not in said
        for question in ("Op welke datum?", "Waar precies?", "Met hoeveel mensen?"):
            assert question not in [c.text for c in bot.replies(anna, since=before)]
        summary = bot.last_text(anna)
        assert f"Kern: IJmuiden {FROM_TEXT}" in summary
        assert f"• Op welke datum? <b>zaterdag 13 maart 2027</b> {FROM_TEXT}" in summary
        assert f"• Waar precies? <b>Plein 1945</b> {FROM_TEXT}" in summary
        assert f"• Met hoeveel mensen? <b>ongeveer 80 mensen</b> {FROM_TEXT}" in summary
        assert "uit je vraag gehaald" in summary
        await bot.press(anna, "Versturen")
    assert "V-2026-0001" in bot.last_text(anna)
    question = await services(bot).questions.get(1)
    assert question.kern == "IJmuiden" and question.topic_key == "evenementen"
    assert question.details == {
        "date": "zaterdag 13 maart 2027",
        "place": "Plein 1945",
        "people": "ongeveer 80 mensen",
    }


async def test_not_right_asks_what_was_read_after_all(qbot: BotHarness) -> None:
    bot = qbot
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna, "Driehuis")
    with time_machine.travel(local("2026-06-01 10:00"), tick=False):
        await ask_about_an_event(bot, anna, FEEST)
        await bot.press(anna, "Klopt niet, vraag het me")
        assert bot.replies(anna)[-2].text == "Goed, dan vraag ik het je."
        assert "Over welke kern" in bot.last_text(anna)
        assert "📍 Driehuis" in [label for label, _ in bot.replies(anna)[-1].buttons]
        await bot.press(anna, "Velsen-Zuid")
        assert bot.last_text(anna) == "Op welke datum?"
        await bot.send(anna, "14 maart 2027")
        assert bot.last_text(anna) == "Waar precies?"
        await bot.send(anna, "Plein 1945")
        assert bot.last_text(anna) == "Met hoeveel mensen?"
        await bot.press(anna, "Overslaan")
        summary = bot.last_text(anna)
        assert FROM_TEXT not in summary and "Kern: Velsen-Zuid" in summary
        assert "Klopt niet" not in [label for label, _ in bot.replies(anna)[-1].buttons]
        # The old summary's button no longer corrects anything.
        await bot.press_data(anna, vraag.CORRECT.build())
        assert bot.answers()[-1].startswith(STALE)
        await bot.press(anna, "Versturen")
    question = await services(bot).questions.get(1)
    assert question.kern == "Velsen-Zuid"
    assert question.details == {"date": "14 maart 2027", "place": "Plein 1945"}


async def test_a_partly_read_question_asks_the_rest_and_keeps_the_kern_when_corrected(
    qbot: BotHarness,
) -> None:
    bot = qbot
    bram = bot.person(1002, "Bram", language_code="en")
    await onboard(bot, bram, "Velserbroek")
    text = "We would like to hold a street party tomorrow on the Dudokplein, with some music."
    with time_machine.travel(local("2026-06-05 10:00"), tick=False):
        await ask_about_an_event(bot, bram, text)
        assert "Which kern" in bot.last_text(bram)
        await bot.press(bram, "Velserbroek")
        assert bot.last_text(bram) == "How many people?"  # date and place were read
        await bot.send(bram, "about 30")
        summary = bot.last_text(bram)
        marked = "<i>(from your question)</i>"
        assert "Kern: Velserbroek\n" in summary
        assert f"• On what date? <b>Saturday 6 June 2026</b> {marked}" in summary
        assert f"• Where exactly? <b>Dudokplein</b> {marked}" in summary
        assert "• How many people? <b>about 30</b>\n" in summary
        # In the order of the questions, whichever were read.
        assert summary.index("On what date") < summary.index("Where") < summary.index("How")
        await bot.press(bram, "Not right, ask me")
        assert bot.last_text(bram) == "On what date?"  # the kern was chosen, not read
        await bot.send(bram, "Sunday 7 June")
        assert bot.last_text(bram) == "Where exactly?"
        await bot.send(bram, "Dudokplein, the north side")
        assert "Kern: Velserbroek" in bot.last_text(bram)
        await bot.press(bram, vraag.SEND.build())
    question = await services(bot).questions.get(1)
    assert question.kern == "Velserbroek"
    assert question.details == {
        "date": "Sunday 7 June",
        "place": "Dudokplein, the north side",
        "people": "about 30",
    }


async def test_a_forged_correction_is_refused(qbot: BotHarness) -> None:
    bot = qbot
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    await bot.send(anna, "/vraag")
    await bot.press_data(anna, vraag.CORRECT.build())  # nothing to correct yet
    assert bot.answers()[-1].startswith(STALE)
    await bot.send(anna, "Het grofvuil naast de container is niet opgehaald.")
    await bot.press_data(anna, vraag.CORRECT.build())  # at the kern question
    assert bot.answers()[-1].startswith(STALE)
    await bot.press(anna, "IJmuiden")
    assert "Klopt dit?" in bot.last_text(anna) and FROM_TEXT not in bot.last_text(anna)
    await bot.press_data(anna, vraag.CORRECT.build())  # a summary with nothing read
    assert bot.answers()[-1].startswith(STALE)
    await bot.press(anna, "Versturen")
    assert (await services(bot).questions.get(1)).kern == "IJmuiden"
