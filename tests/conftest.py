from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests import databases

if TYPE_CHECKING:
    from tests.harness import BotHarness


def pytest_report_header() -> str:
    return f"burgerbeest test database: {databases.dialect()}"


@pytest.fixture(scope="session")
def _template() -> None:
    if databases.server_url():
        databases.create_template()


@pytest.fixture
def database_url(tmp_path: Path, _template: None) -> Iterator[str]:
    """A database for one test, with the schema in place (SQLite: migrated on first use)."""
    url, name = databases.new_database(tmp_path, migrated=True)
    yield url
    databases.drop_database(name)


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A database for one test without any tables, for testing migrations themselves."""
    url, name = databases.new_database(tmp_path, migrated=False)
    yield url
    databases.drop_database(name)


@pytest.fixture
async def bot(tmp_path: Path, database_url: str) -> AsyncIterator[BotHarness]:
    """The bot on a fresh database; the test fails if any handler raised."""
    from tests.harness import BotHarness, make_config

    harness = BotHarness(make_config(tmp_path, database_url))
    await harness.start()
    yield harness
    await harness.stop()
    assert not harness.errors, f"handlers raised: {harness.errors!r}"
