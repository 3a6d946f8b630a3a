"""The topic taxonomy: two levels (main topic / subtopic) read from a TOML file.

The shipped default is bot/data/topics.toml (Velsen); a municipality may point its config to its
own file. Every problem ends in one `TaxonomyError` naming the file and the topic key, so the CLI
can print one clear line and a moderator knows what to fix.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

DEFAULT_TAXONOMY = Path(__file__).resolve().parents[1] / "data" / "topics.toml"
LANGUAGES = ("nl", "en")
_SLUG = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_MAIN_KEY = re.compile(rf"^{_SLUG}$")
_SUB_KEY = re.compile(rf"^{_SLUG}/{_SLUG}$")
# Beyond this a "deadline" is a typo (e.g. 100 instead of 10), not a service level.
_MAX_DEADLINE_DAYS = 60
_MAIN_FIELDS = {"key", "name", "keywords", "deadline_days", "urgent", "subtopics"}
_SUB_FIELDS = _MAIN_FIELDS - {"subtopics"}


class TaxonomyError(Exception):
    """A problem in a taxonomy file, phrased for the person who edits it."""

    def __init__(self, path: Path, key: str | None, problem: str) -> None:
        where = f"{path}: topic {key!r}" if key else str(path)
        super().__init__(f"{where} {problem}")
        self.path = path
        self.key = key


@dataclass(frozen=True)
class Topic:
    key: str
    parent: str | None  # the main topic's key; None for a main topic
    names: Mapping[str, str] = field(hash=False)
    keywords_by_language: Mapping[str, tuple[str, ...]] = field(hash=False)
    deadline_days: int
    urgent: bool

    @property
    def is_main(self) -> bool:
        return self.parent is None

    @property
    def keywords(self) -> tuple[str, ...]:
        """All keywords, Dutch first."""
        return tuple(k for lang in LANGUAGES for k in self.keywords_by_language.get(lang, ()))

    def name(self, lang: str) -> str:
        """The name in `lang`, Dutch when that language has none."""
        return self.names.get(lang) or self.names["nl"]


@dataclass(frozen=True)
class Taxonomy:
    path: Path
    topics: tuple[Topic, ...]  # each main topic followed by its subtopics, in file order
    _by_key: Mapping[str, Topic] = field(hash=False, repr=False, compare=False)

    def __iter__(self) -> Iterator[Topic]:
        return iter(self.topics)

    def __len__(self) -> int:
        return len(self.topics)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __getitem__(self, key: str) -> Topic:
        return self._by_key[key]

    def get(self, key: str) -> Topic | None:
        return self._by_key.get(key)

    @property
    def main_topics(self) -> tuple[Topic, ...]:
        return tuple(t for t in self.topics if t.is_main)

    @property
    def subtopics(self) -> tuple[Topic, ...]:
        return tuple(t for t in self.topics if not t.is_main)

    def children(self, key: str) -> tuple[Topic, ...]:
        return tuple(t for t in self.topics if t.parent == key)

    def main_of(self, key: str) -> Topic:
        """The main topic of `key` (itself when it is one)."""
        topic = self._by_key[key]
        return topic if topic.parent is None else self._by_key[topic.parent]


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Read and validate a taxonomy file; the shipped Velsen default when `path` is None."""
    path = DEFAULT_TAXONOMY if path is None else path
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise TaxonomyError(path, None, "does not exist") from None
    except OSError as exc:
        raise TaxonomyError(path, None, f"cannot be read ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TaxonomyError(path, None, f"is not valid TOML: {exc}") from None
    return parse_taxonomy(data, path)


def parse_taxonomy(data: Mapping[str, Any], path: Path) -> Taxonomy:
    """Validate already-parsed TOML (`path` only names the source in errors)."""
    raw_topics = data.get("topics")
    if not isinstance(raw_topics, list) or not raw_topics:
        raise TaxonomyError(path, None, "needs at least one [[topics]] table")
    topics: list[Topic] = []
    seen: set[str] = set()

    def add(topic: Topic) -> None:
        if topic.key in seen:
            raise TaxonomyError(path, topic.key, "appears twice")
        seen.add(topic.key)
        topics.append(topic)

    for index, raw in enumerate(raw_topics):
        main = _topic(raw, path, parent=None, index=index)
        add(main)
        subs = raw.get("subtopics")
        if not isinstance(subs, list) or not subs:
            raise TaxonomyError(path, main.key, "needs at least one [[topics.subtopics]] table")
        for sub_index, raw_sub in enumerate(subs):
            add(_topic(raw_sub, path, parent=main, index=sub_index))
    by_key = MappingProxyType({t.key: t for t in topics})
    return Taxonomy(path=path, topics=tuple(topics), _by_key=by_key)


def _topic(raw: Any, path: Path, *, parent: Topic | None, index: int) -> Topic:
    kind = "subtopic" if parent else "topic"
    if not isinstance(raw, dict):
        raise TaxonomyError(path, None, f"{kind} number {index + 1} is not a table")
    key = raw.get("key")
    if not isinstance(key, str) or not key:
        where = f"under {parent.key!r}" if parent else "at top level"
        raise TaxonomyError(path, None, f"{kind} number {index + 1} {where} has no key")
    if parent is None:
        if not _MAIN_KEY.match(key):
            raise TaxonomyError(path, key, "key must be a lowercase ascii slug like 'afval'")
    elif not _SUB_KEY.match(key) or not key.startswith(parent.key + "/"):
        raise TaxonomyError(
            path, key, f"key must look like '{parent.key}/slug' (lowercase ascii, under its parent)"
        )
    unknown = set(raw) - (_SUB_FIELDS if parent else _MAIN_FIELDS)
    if unknown:
        raise TaxonomyError(path, key, f"has unknown field(s): {', '.join(sorted(unknown))}")

    names = _per_language(raw.get("name"), path, key, "name", required=LANGUAGES)
    keywords = _keywords(raw.get("keywords", {}), path, key)
    if parent is not None and not any(keywords.values()):
        raise TaxonomyError(path, key, "needs keywords.nl (the classifier has nothing to go on)")

    deadline = raw.get("deadline_days", parent.deadline_days if parent else None)
    if isinstance(deadline, bool) or not isinstance(deadline, int):
        raise TaxonomyError(path, key, "deadline_days must be a whole number of working days")
    if not 1 <= deadline <= _MAX_DEADLINE_DAYS:
        raise TaxonomyError(path, key, f"deadline_days must be 1..{_MAX_DEADLINE_DAYS}")
    urgent = raw.get("urgent", parent.urgent if parent else None)
    if not isinstance(urgent, bool):
        raise TaxonomyError(path, key, "urgent must be true or false")

    return Topic(
        key=key,
        parent=parent.key if parent else None,
        # Read-only views: a frozen Topic must not change under a caller's hands.
        names=MappingProxyType(names),
        keywords_by_language=MappingProxyType(keywords),
        deadline_days=deadline,
        urgent=urgent,
    )


def _per_language(
    value: Any, path: Path, key: str, what: str, *, required: tuple[str, ...]
) -> dict[str, str]:
    if not isinstance(value, dict):
        raise TaxonomyError(path, key, f"needs {what}.nl and {what}.en")
    result: dict[str, str] = {}
    for lang in required:
        text = value.get(lang)
        if not isinstance(text, str) or not text.strip():
            raise TaxonomyError(path, key, f"needs a non-empty {what}.{lang}")
        result[lang] = text.strip()
    extra = set(value) - set(LANGUAGES)
    if extra:
        raise TaxonomyError(
            path, key, f"{what} has unknown language(s): {', '.join(sorted(extra))}"
        )
    return result


def _keywords(value: Any, path: Path, key: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise TaxonomyError(path, key, "keywords must be a table with nl = [...] and en = [...]")
    extra = set(value) - set(LANGUAGES)
    if extra:
        raise TaxonomyError(
            path, key, f"keywords has unknown language(s): {', '.join(sorted(extra))}"
        )
    result: dict[str, tuple[str, ...]] = {}
    for lang in LANGUAGES:
        words = value.get(lang, [])
        if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
            raise TaxonomyError(path, key, f"keywords.{lang} must be a list of non-empty strings")
        # Case and duplicates are typos, not meaning: fold them here once.
        result[lang] = tuple(dict.fromkeys(w.strip().lower() for w in words))
    return result
