"""Dutch text → canonical tokens, done once when an initiative is stored.

`normalize("Hondenspeeltuin in IJmuiden")` == `normalize("speeltuin voor honden in IJmuiden")`
up to word order: case and accents are folded, invisible characters dropped, stop words removed,
words stemmed (Snowball Dutch plus a verb rule), compounds split into their parts and a few
synonyms mapped onto one word. The result is a space-separated string that is all the index needs,
so changing anything here means re-normalising what is stored.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import snowballstemmer
from rapidfuzz import process
from rapidfuzz.distance import OSA

_HERE = Path(__file__).resolve().parent
LEXICON_PATH = _HERE / "lexicon.tsv"
SYNONYMS_PATH = _HERE / "synonyms.txt"

# Letters and digits of any script; everything else (punctuation, emoji, symbols) separates words.
_WORD = re.compile(r"[^\W_]+")
# Parts shorter than this are not split off compounds ("ui", "en" would match too much).
MIN_PART = 3
MAX_PARTS = 3
LINKERS = ("", "s", "en", "e")
# Typo repair: only long unknown words, only towards words seen in several documents, so that
# a rare real word or a name is left alone far more often than not.
TYPO_MIN_LEN = 6
TYPO_TARGET_MIN_COUNT = 3

# Dutch function words that carry no topic: articles, pronouns, auxiliaries, conjunctions and
# quantifiers ("twee bankjes" is the same idea as "bankjes"). Negations and place words stay
# in: "geen" and "niet" change what a sentence says, and so do "achter" and "naast" (measured
# on SICK-NL TRAIN+TRIAL).
STOPWORDS = frozenset(
    """
    aan aantal af al alle alles als also andere ben beide bij bijv daar daarom dan dat de deze
    die dit doch door dus een eens elkaar en enkele er ergens etc even had heb hebben heeft hem
    het hier hij hoe hun ik in is ja je jij jou jouw jullie kan kon kunnen maar me meer men met
    mij mijn moet na naar nog nu of om omdat onder ons onze ook op over paar per s samen sommige
    t te tegen toch toen tot u uit uw van veel verschillende via voor want was wat we wel welk
    welke wie wij wil worden wordt zal ze zelf zich zij zijn zo zoals zodat zonder zou zouden
    twee drie vier vijf zes zeven acht negen tien
    """.split()
)


def fold(text: str) -> str:
    """Lower case without accents or invisible characters (zero-width, direction marks, BOM)."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(ch for ch in decomposed if unicodedata.category(ch) not in ("Mn", "Cf"))
    return unicodedata.normalize("NFC", kept.casefold())


def words(folded: str) -> list[str]:
    return _WORD.findall(folded)


_STEMMER = snowballstemmer.stemmer("dutch")


@lru_cache(maxsize=1 << 16)
def _snowball(word: str) -> str:
    return _STEMMER.stemWord(word)


@dataclass(frozen=True, slots=True)
class _Lexicon:
    words: dict[str, int]  # folded surface word → document frequency
    stems: dict[str, int]  # stem → summed document frequency
    bases: frozenset[str]  # stems that some inflected form reduces to (speel ← spelen)
    n_docs: int


@cache
def _lexicon() -> _Lexicon:
    counts: dict[str, int] = {}
    n_docs = 1
    for line in LEXICON_PATH.read_text(encoding="utf-8").splitlines():
        if line.startswith("#documents\t"):
            n_docs = int(line.split("\t")[1])
        elif line and not line.startswith("#"):
            word, count = line.split("\t")
            counts[word] = int(count)
    stems: dict[str, int] = {}
    bases: set[str] = set()
    for word, count in counts.items():
        stemmed = _snowball(word)
        stems[stemmed] = stems.get(stemmed, 0) + count
        if stemmed != word:
            bases.add(stemmed)
    return _Lexicon(counts, stems, frozenset(bases), n_docs)


_VOWELS = frozenset("aeiouy")
_LONG_VOWELS = frozenset(("aa", "ee", "oo", "uu"))


def stem(word: str) -> str:
    """Snowball Dutch with three repairs that the lexicon decides, so they follow the data:
    - a singular in -s keeps it when its plural in -en is known (fiets/fietsen, mens/mensen);
    - an adjective loses its -e when the base is known (kleine → klein, grote → groot);
    - a present-tense verb loses its -t when the base is known (speelt → speel, rijdt → rijd),
      but not when it is a base itself (plant ← planten)."""
    stemmed = _snowball(word)
    lex = _lexicon()
    if word.endswith("s") and stemmed == word[:-1] and word + "en" in lex.words:
        return word
    if stemmed.endswith("e") and len(stemmed) > 3:
        base = stemmed[:-1]
        # Dutch spelling: a single vowel in an open syllable was a long one (gro|te → groot).
        long_form = base[:-1] + base[-2] + base[-1] if _open_syllable(base) else ""
        for candidate in (long_form, base):
            if candidate in lex.words:
                return _snowball(candidate)
    if len(stemmed) > 3 and stemmed.endswith("t") and stemmed not in lex.bases:
        base = stemmed[:-1]
        if base in lex.bases:
            return base
        if base[-3:-1] in _LONG_VOWELS:  # poseert → poser (poseren), as Snowball spells it
            short = base[:-2] + base[-1]
            if short in lex.bases:
                return short
    return stemmed


def _open_syllable(base: str) -> bool:
    """Ends consonant-vowel-consonant, so the vowel was long before the -e (gro|te)."""
    return (
        len(base) >= 3
        and base[-1] not in _VOWELS
        and base[-2] in _VOWELS
        and base[-3] not in _VOWELS
    )


def _part_count(part: str) -> int:
    lex = _lexicon()
    if part in STOPWORDS:
        return 0
    return max(lex.stems.get(part, 0), lex.words.get(part, 0))


@lru_cache(maxsize=1 << 16)
def _best_split(word: str, depth: int) -> tuple[tuple[str, ...], float]:
    """Koehn & Knight (2003): the split whose parts have the highest geometric-mean frequency,
    the unsplit word included. The head is in stem space (it carries the inflection); the
    modifiers may carry a linking -s-, -en- or -e- (honden|speeltuin, stads|deel)."""
    best: tuple[tuple[str, ...], float] = ((word,), float(_part_count(word)))
    if depth <= 1 or len(word) < 2 * MIN_PART:
        return best
    for i in range(MIN_PART, len(word) - MIN_PART + 1):
        head = word[i:]
        head_count = _part_count(head)
        if not head_count:
            continue
        left = word[:i]
        for link in LINKERS:
            if not left.endswith(link):
                continue
            modifier = left[: len(left) - len(link)]
            if len(modifier) < MIN_PART:
                continue
            parts, score = _best_split(modifier, depth - 1)
            if not score:
                continue
            n = len(parts) + 1
            gm = math.exp((math.log(score) * len(parts) + math.log(head_count)) / n)
            if gm > best[1]:
                best = ((*parts, head), gm)
    return best


@cache
def _synonym_table() -> dict[str, tuple[str, ...]]:
    """variant (folded word or stem) → canonical tokens, from `synonyms.txt` lines
    `canonical: variant, variant`. The canonical word goes through the same analysis as any
    word, so a compound canonical (speeltuin) yields the same parts as in running text."""
    table: dict[str, tuple[str, ...]] = {}
    for line in _synonym_lines():
        head, sep, rest = line.partition(":")
        if not sep or line[0] == "~" or ">" in line:
            continue
        target = _analyse(fold(head.strip()))
        for raw in rest.split(","):
            variant = fold(raw.strip())
            if variant:
                table[variant] = target
                table.setdefault(stem(variant), target)
    return table


def _synonym_lines() -> list[str]:
    lines = []
    for raw in SYNONYMS_PATH.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            lines.append(line)
    return lines


def _single_tokens(raw_words: list[str]) -> tuple[str, ...]:
    """Canonical single tokens; a compound's parts would relate too much, so it is left out."""
    out: dict[str, None] = {}
    for raw in raw_words:
        analysed = canonical(fold(raw.strip()))
        if len(analysed) == 1:
            out.setdefault(analysed[0], None)
    return tuple(out)


def hypernyms() -> list[tuple[str, tuple[str, ...]]]:
    """The `general > specific, ...` lines of `synonyms.txt` as canonical tokens."""
    out = []
    for line in _synonym_lines():
        general, sep, rest = line.partition(">")
        if sep:
            head = _single_tokens([general])
            if head:
                out.append((head[0], _single_tokens(rest.split(","))))
    return out


def near_synonyms() -> list[tuple[str, ...]]:
    """The `~ word, word` lines of `synonyms.txt` as canonical tokens."""
    return [_single_tokens(line[1:].split(",")) for line in _synonym_lines() if line[0] == "~"]


@lru_cache(maxsize=1 << 17)
def _analyse(word: str) -> tuple[str, ...]:
    """Stem and compound parts of one folded word, before synonyms."""
    if word in STOPWORDS or (len(word) < 2 and not word.isdigit()):
        return ()
    if word.isdigit():
        return (word,)
    stemmed = stem(word)
    parts, known = _best_split(stemmed, MAX_PARTS)
    if not known and word not in _lexicon().words:
        corrected = _correct(word)
        if corrected and corrected != word:
            return _analyse(corrected)
    out: list[str] = []
    for part in parts:
        # Parts already in stem space stay as they are; stemming twice can over-stem.
        token = part if part == stemmed or part in _lexicon().stems else stem(part)
        if token not in STOPWORDS:
            out.append(token)
    return tuple(out)


@cache
def _frequent_words() -> list[str]:
    return [w for w, count in _lexicon().words.items() if count >= TYPO_TARGET_MIN_COUNT]


def _correct(word: str) -> str | None:
    """The frequent lexicon word one typo away from an unknown long word (speeltiun →
    speeltuin), so that a typo is fixed once, at storage, rather than at every comparison."""
    if len(word) < TYPO_MIN_LEN:
        return None
    hit = process.extractOne(word, _frequent_words(), scorer=OSA.distance, score_cutoff=1)
    return hit[0] if hit else None


@lru_cache(maxsize=1 << 17)
def canonical(word: str) -> tuple[str, ...]:
    """Canonical tokens of one folded word: () for a stop word, several for a compound."""
    table = _synonym_table()
    if word in table:
        return table[word]
    out: list[str] = []
    for token in _analyse(word):
        out.extend(table.get(token, (token,)))
    return tuple(out)


def tokens(text: str) -> list[str]:
    """Canonical tokens of a raw text, in order, each once."""
    seen: dict[str, None] = {}
    for word in words(fold(text)):
        for token in canonical(word):
            seen.setdefault(token, None)
    return list(seen)


# Raise when a change to the rules in this module changes what normalize() returns: stored
# initiatives are then normalised again at the next start (see normalizer_fingerprint).
RULES_VERSION = 1


@cache
def normalizer_fingerprint() -> str:
    """Changes whenever normalize() may give other output: rules, lexicon or synonym list."""
    digest = hashlib.sha256(f"rules:{RULES_VERSION}".encode())
    for path in (LEXICON_PATH, SYNONYMS_PATH):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def normalize(text: str) -> str:
    """The stored, index-ready form of a text: canonical tokens separated by single spaces."""
    return " ".join(tokens(text))
