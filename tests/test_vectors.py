"""Initiatives' sentence vectors stay in step with their words: written when an idea is saved,
computed again when a moderator edits its title or its author is forgotten, all again when
the model changes, and none at all (matching by words) without a model."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence

import numpy as np
import pytest
from sqlalchemy import delete, select

from bot import semantic
from bot.matching.vectors import initiative_texts, initiative_vector
from bot.services.meta import read_fingerprint
from bot.services.vectors import ENCODER_KEY, embed_stored
from models import InitiativeVector, User
from tests.flows import DESCRIPTION, onboard, save_idea
from tests.harness import BotHarness, Person


class HashEncoder:
    """A stand-in model: a fixed random unit vector per (model name, text)."""

    dim = 8

    def __init__(self, name: str) -> None:
        self.name = name

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows = []
        for text in texts:
            seed = int(hashlib.sha256(f"{self.name}:{text}".encode()).hexdigest()[:8], 16)
            row = np.random.default_rng(seed).standard_normal(self.dim)
            rows.append(row / np.linalg.norm(row))
        return np.asarray(rows, dtype=np.float32).reshape(len(texts), self.dim)


@pytest.fixture
def model() -> Iterator[HashEncoder]:
    """Put in place before the bot starts, and the packaged model back afterwards."""
    packaged = semantic.get_encoder()
    stand_in = HashEncoder("a")
    semantic.set_encoder(stand_in)
    yield stand_in
    semantic.set_encoder(packaged)


@pytest.fixture
def no_model() -> Iterator[None]:
    """As when the model cannot load: matching by words alone."""
    packaged = semantic.get_encoder()
    semantic.set_encoder(None)
    yield
    semantic.set_encoder(packaged)


def expected(model: HashEncoder, title: str, description: str) -> np.ndarray:
    return initiative_vector(model.embed(initiative_texts(title, description)))


async def stored(bot: BotHarness) -> dict[int, np.ndarray]:
    async with bot.app.bot_data["sessions"]() as session:
        rows = await session.execute(
            select(InitiativeVector.initiative_id, InitiativeVector.vector)
        )
        return {initiative_id: semantic.unpack(vector) for initiative_id, vector in rows}


async def user_id(bot: BotHarness, who: Person) -> int:
    async with bot.app.bot_data["sessions"]() as session:
        return await session.scalar(select(User.id).where(User.telegram_id == who.id))


async def test_a_saved_idea_has_the_vector_of_its_title_and_description(
    model: HashEncoder, bot: BotHarness
) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    await save_idea(bot, anna, "Hondenspeeltuin")
    want = expected(model, "Hondenspeeltuin", DESCRIPTION)
    assert np.allclose((await stored(bot))[1], want, atol=1e-3)
    assert np.allclose(bot.app.bot_data["services"].matching.index.vector(1), want, atol=0.02)


async def test_a_moderators_title_edit_gives_a_new_vector(
    model: HashEncoder, bot: BotHarness
) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    await save_idea(bot, anna, "Hondenspeeltuin")
    services = bot.app.bot_data["services"]
    moderator = await user_id(bot, anna)
    assert await services.moderation.hide(moderator, 1) is not None
    assert await services.moderation.edit_title(moderator, 1, "Speelveld voor honden")
    want = expected(model, "Speelveld voor honden", DESCRIPTION)
    assert np.allclose((await stored(bot))[1], want, atol=1e-3)
    assert np.allclose(services.matching.index.vector(1), want, atol=0.02)


async def test_forgetting_a_resident_takes_the_description_out_of_the_vectors(
    model: HashEncoder, bot: BotHarness
) -> None:
    anna, bram = bot.person(1001, "Anna"), bot.person(1002, "Bram")
    await onboard(bot, anna)
    await onboard(bot, bram)
    await save_idea(bot, anna, "Hondenspeeltuin")  # Bram joins it: it stays, without its words
    await save_idea(bot, anna, "Moestuin bij de school")  # nobody joined: it goes
    services = bot.app.bot_data["services"]
    assert (await services.matching.join(await user_id(bot, bram), 1)).ok

    await services.privacy.erase(anna.id)
    vectors = await stored(bot)
    assert vectors.keys() == {1}
    assert np.allclose(vectors[1], expected(model, "Hondenspeeltuin", ""), atol=1e-3)
    assert not np.allclose(vectors[1], expected(model, "Hondenspeeltuin", DESCRIPTION), atol=0.1)
    assert services.matching.index.vector(2) is None


async def test_a_new_model_computes_every_vector_again_and_a_missing_one_is_filled_in(
    model: HashEncoder, bot: BotHarness
) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    await save_idea(bot, anna, "Hondenspeeltuin")
    await save_idea(bot, anna, "Moestuin bij de school")
    sessions = bot.app.bot_data["sessions"]
    assert await embed_stored(sessions) == 0  # the same model: nothing to do

    newer = HashEncoder("b")
    semantic.set_encoder(newer)
    assert await embed_stored(sessions) == 2
    vectors = await stored(bot)
    assert np.allclose(vectors[1], expected(newer, "Hondenspeeltuin", DESCRIPTION), atol=1e-3)
    assert np.allclose(
        vectors[2], expected(newer, "Moestuin bij de school", DESCRIPTION), atol=1e-3
    )
    async with sessions() as session:
        assert await read_fingerprint(session, ENCODER_KEY) == semantic.fingerprint(newer)
    assert await embed_stored(sessions) == 0

    async with sessions.begin() as session:
        await session.execute(delete(InitiativeVector).where(InitiativeVector.initiative_id == 2))
    assert await embed_stored(sessions) == 1
    assert (await stored(bot)).keys() == {1, 2}


async def test_without_a_model_ideas_are_saved_and_found_by_their_words(
    no_model: None, bot: BotHarness
) -> None:
    anna = bot.person(1001, "Anna")
    await onboard(bot, anna)
    await save_idea(bot, anna, "Hondenspeeltuin in het park")
    assert await stored(bot) == {}
    [found] = await bot.send(anna, "/zoek speeltuin voor honden")
    assert "Hondenspeeltuin in het park" in found.text
    assert await embed_stored(bot.app.bot_data["sessions"]) == 0
