"""Dutch-aware matching of short initiative texts: normalise once, index, query, dedupe."""

from bot.matching.dedupe import DUPLICATE_THRESHOLD, add_dedupe_parser, find_duplicates
from bot.matching.index import MATCH_THRESHOLD, Match, MatchIndex, similarity
from bot.matching.normalize import normalize

__all__ = [
    "DUPLICATE_THRESHOLD",
    "MATCH_THRESHOLD",
    "Match",
    "MatchIndex",
    "add_dedupe_parser",
    "find_duplicates",
    "normalize",
    "similarity",
]
