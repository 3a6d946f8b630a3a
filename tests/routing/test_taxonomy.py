"""The taxonomy file: the shipped default loads, broken files name the file and the key."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.routing.taxonomy import DEFAULT_TAXONOMY, TaxonomyError, load_taxonomy

GOOD = """
[[topics]]
key = "afval"
name.nl = "Afval"
name.en = "Waste"
deadline_days = 3
urgent = false
keywords.nl = ["afval"]

  [[topics.subtopics]]
  key = "afval/grofvuil"
  name.nl = "Grofvuil"
  name.en = "Bulky waste"
  keywords.nl = ["Grofvuil", "grofvuil", "bank"]
  keywords.en = ["bulky waste"]

  [[topics.subtopics]]
  key = "afval/spoed"
  name.nl = "Spoed"
  name.en = "Urgent"
  deadline_days = 1
  urgent = true
  keywords.nl = ["asbest"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "topics.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_shipped_taxonomy_loads_and_covers_the_services() -> None:
    taxonomy = load_taxonomy()
    assert taxonomy.path == DEFAULT_TAXONOMY
    mains = {t.key for t in taxonomy.main_topics}
    for expected in (
        "openbare-ruimte",
        "overlast",
        "initiatieven",
        "burgerzaken",
        "belastingen",
        "werk-inkomen",
        "zorg-welzijn",
        "bouwen-wonen",
        "ondernemen",
        "evenementen",
    ):
        assert expected in mains
    for sub in taxonomy.subtopics:
        assert sub.parent in mains
        assert sub.key.startswith(f"{sub.parent}/")
        assert sub.keywords, sub.key
        assert sub.name("nl") and sub.name("en")
        assert 1 <= sub.deadline_days <= 60
    assert any(t.urgent for t in taxonomy.subtopics)
    assert len(taxonomy.subtopics) >= 30


def test_subtopics_inherit_and_override(tmp_path: Path) -> None:
    taxonomy = load_taxonomy(write(tmp_path, GOOD))
    grofvuil = taxonomy["afval/grofvuil"]
    assert grofvuil.parent == "afval"
    assert grofvuil.deadline_days == 3 and grofvuil.urgent is False
    assert grofvuil.keywords == ("grofvuil", "bank", "bulky waste")  # folded, deduplicated
    assert grofvuil.name("en") == "Bulky waste"
    assert grofvuil.name("fy") == "Grofvuil"  # unknown language: Dutch
    spoed = taxonomy["afval/spoed"]
    assert spoed.deadline_days == 1 and spoed.urgent is True
    assert [t.key for t in taxonomy.children("afval")] == ["afval/grofvuil", "afval/spoed"]
    assert taxonomy.main_of("afval/spoed").key == "afval"
    assert "afval/spoed" in taxonomy and "afval/nope" not in taxonomy


def test_topic_is_frozen(tmp_path: Path) -> None:
    topic = load_taxonomy(write(tmp_path, GOOD))["afval/grofvuil"]
    with pytest.raises(AttributeError):
        topic.key = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        topic.names["nl"] = "x"  # type: ignore[index]


@pytest.mark.parametrize(
    ("old", "new", "key", "message"),
    [
        ('key = "afval/spoed"', 'key = "afval/grofvuil"', "afval/grofvuil", "appears twice"),
        ('key = "afval/spoed"', 'key = "verkeer/spoed"', "verkeer/spoed", "under its parent"),
        ('key = "afval/spoed"', 'key = "afval/Spoed!"', "afval/Spoed!", "slug"),
        ('key = "afval"', 'key = "Afval"', "Afval", "slug"),
        ("deadline_days = 1", "deadline_days = 0", "afval/spoed", "deadline_days"),
        ("deadline_days = 1", 'deadline_days = "1"', "afval/spoed", "deadline_days"),
        ("deadline_days = 1", "deadline_days = true", "afval/spoed", "deadline_days"),
        ("urgent = true", 'urgent = "ja"', "afval/spoed", "urgent"),
        ('name.en = "Urgent"', "", "afval/spoed", "name.en"),
        ('keywords.nl = ["asbest"]', "keywords.nl = []", "afval/spoed", "keywords"),
        ('keywords.nl = ["asbest"]', 'keywords.nl = ["asbest", 3]', "afval/spoed", "keywords.nl"),
        ('keywords.nl = ["asbest"]', 'keywords.de = ["asbest"]', "afval/spoed", "de"),
        ("urgent = true", "urgent = true\ndeadline_day = 2", "afval/spoed", "deadline_day"),
    ],
)
def test_bad_topic_names_file_and_key(
    tmp_path: Path, old: str, new: str, key: str, message: str
) -> None:
    assert GOOD.count(old) == 1
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(TaxonomyError) as info:
        load_taxonomy(path)
    text = str(info.value)
    assert str(path) in text
    assert repr(key) in text
    assert message in text
    assert info.value.key == key


def test_main_topic_without_subtopics(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.split("  [[topics.subtopics]]")[0])
    with pytest.raises(TaxonomyError, match="'afval' needs at least one"):
        load_taxonomy(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "at least one [[topics]]"),
        ("topics = 3", "at least one [[topics]]"),
        ("[[topics]\nkey=", "not valid TOML"),
        ("[[topics]]\nname.nl = 'x'\n", "has no key"),
    ],
)
def test_broken_files(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(TaxonomyError) as info:
        load_taxonomy(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TaxonomyError, match="does not exist"):
        load_taxonomy(tmp_path / "nope.toml")
