"""/over: who runs this Burgerbeest, the controller, retention and the municipality's platform."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.config import AboutConfig, ConfigError, load_config
from tests.harness import BotHarness, make_config


async def test_over_tells_who_runs_this_in_both_languages(bot: BotHarness) -> None:
    anna = bot.person(1001, "Anna")
    [reply] = await bot.send(anna, "/over")
    assert "onafhankelijke verbinder" in reply.text and "niet de gemeente zelf" in reply.text
    assert "de organisatie die deze bot beheert" in reply.text  # no controller configured
    assert "na 365 dagen" in reply.text
    assert "platform" not in reply.text  # none configured: nothing to point at
    emma = bot.person(1002, "Emma", language_code="en")
    [reply] = await bot.send(emma, "/about")
    assert "independent connector" in reply.text and "after 365 days" in reply.text


async def test_over_names_the_controller_contact_and_platform(
    tmp_path: Path, database_url: str
) -> None:
    config = dataclasses.replace(
        make_config(tmp_path, database_url),
        retention_days=180,
        about=AboutConfig(
            controller="Stichting Burgerbeest <Velsen>",
            contact="privacy@example.org",
            platform_name="Velsen op Koers",
            platform_url="https://example.org/koers?a=1&b=2",
        ),
    )
    harness = BotHarness(config)
    await harness.start()
    try:
        [reply] = await harness.send(harness.person(1001, "Anna"), "/over")
    finally:
        await harness.stop()
    assert not harness.errors
    assert "Stichting Burgerbeest &lt;Velsen&gt;" in reply.text  # escaped, not markup
    assert "privacy@example.org" in reply.text and "na 180 dagen" in reply.text
    assert '<a href="https://example.org/koers?a=1&amp;b=2">Velsen op Koers</a>' in reply.text


def test_the_settings_are_read_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    base = '[municipality]\nname = "Velsen"\nkernen = ["IJmuiden"]\n'
    path.write_text(
        base + 'platform_name = "Velsen op Koers"\nplatform_url = "https://example.org"\n'
        '[privacy]\ncontroller = "Gemeente Velsen"\ncontact = "privacy@velsen.nl"\n'
    )
    about = load_config(path, environ={}, need_token=False).about
    assert about == AboutConfig(
        "Gemeente Velsen", "privacy@velsen.nl", "Velsen op Koers", "https://example.org"
    )
    path.write_text(base + 'platform_url = "example.org"\n')
    with pytest.raises(ConfigError, match=r"platform_url.*http"):
        load_config(path, environ={}, need_token=False)
