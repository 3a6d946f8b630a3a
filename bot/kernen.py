"""A kern as a resident types it: "velserbroek", "Velsen Noord", "ijmuiden", "Santpoort N.",
"Velserbroke". Matched without case, accents, dashes or spaces; "N."/"Z." read as Noord/Zuid, ij
and y as one letter; a small typo forgiven. Two kernen that fit equally well ("Santpoort",
"Velsen") are not guessed between: the resident is asked again."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

# Short forms of the compass words in kern names ("Santpoort N.", "Velsen-Nrd").
_SHORT = {"n": "noord", "nrd": "noord", "z": "zuid", "zd": "zuid", "o": "oost", "w": "west"}
# A typo may cost this much of fuzz.ratio (0-100): "velserbroke" scores 91, "santpoort" 82.
_CUTOFF = 85
# Scores this close to the best are as likely: ask instead of guessing.
_TIE = 4
# A beginning this long names a kern when only one kern begins so ("Velserb", "Drieh").
_PREFIX = 4


@dataclass(frozen=True)
class KernMatch:
    """The kern meant (None when unclear); the ones it could be when several fit."""

    kern: str | None
    candidates: tuple[str, ...] = ()


def fold(text: str) -> str:
    """`text` as a key: lower case letters and digits only, accents gone, compass words in
    full, "ij" as "y"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    words = re.findall(r"[^\W_]+", plain)
    return "".join(_SHORT.get(word, word) for word in words).replace("ij", "y")


def match_kern(text: str, kernen: Sequence[str]) -> KernMatch:
    """The kern in `kernen` that `text` names, if it names exactly one."""
    typed = fold(text)
    if not typed:
        return KernMatch(None)
    keys = {kern: fold(kern) for kern in kernen}
    for kern, key in keys.items():
        if key == typed:
            return KernMatch(kern)
    if len(typed) >= _PREFIX:
        starting = tuple(kern for kern, key in keys.items() if key.startswith(typed))
        if starting:
            return _one(starting)
    scores = {kern: fuzz.ratio(typed, key) for kern, key in keys.items()}
    best = max(scores.values(), default=0)
    if best >= _CUTOFF:
        return _one(tuple(kern for kern, score in scores.items() if score >= best - _TIE))
    # A sentence that names one kern: "ik woon in Velserbroek".
    inside = tuple(kern for kern, key in keys.items() if key in typed)
    # "Velsen" is inside "Velsen-Noord": the longest name is the one meant.
    inside = tuple(
        kern
        for kern in inside
        if not any(keys[kern] in keys[other] and other != kern for other in inside)
    )
    return _one(inside) if inside else KernMatch(None)


def _one(candidates: tuple[str, ...]) -> KernMatch:
    return KernMatch(candidates[0]) if len(candidates) == 1 else KernMatch(None, candidates)
