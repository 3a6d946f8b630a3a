"""Routing questions to topics: the taxonomy and the classifier (no Telegram here)."""

from bot.routing.taxonomy import DEFAULT_TAXONOMY, Taxonomy, TaxonomyError, Topic, load_taxonomy

__all__ = ["DEFAULT_TAXONOMY", "Taxonomy", "TaxonomyError", "Topic", "load_taxonomy"]
