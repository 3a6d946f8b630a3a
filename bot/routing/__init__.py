"""Routing questions to topics: the taxonomy and the classifier (no Telegram here)."""

from bot.routing.classifier import (
    CONFIDENCE_THRESHOLD,
    DEFAULT_PARAMS,
    ScoringParams,
    TopicClassifier,
    TopicScore,
    is_confident,
)
from bot.routing.cli import add_route_parser
from bot.routing.taxonomy import DEFAULT_TAXONOMY, Taxonomy, TaxonomyError, Topic, load_taxonomy

__all__ = [
    "CONFIDENCE_THRESHOLD",
    "DEFAULT_PARAMS",
    "DEFAULT_TAXONOMY",
    "ScoringParams",
    "Taxonomy",
    "TaxonomyError",
    "Topic",
    "TopicClassifier",
    "TopicScore",
    "add_route_parser",
    "is_confident",
    "load_taxonomy",
]
