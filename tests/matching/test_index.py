"""MatchIndex: kept in step with add/update/remove; kern bonus, closed penalty, exclude."""

from __future__ import annotations

import numpy as np
import pytest

from bot.matching import Match, MatchIndex, blend, normalize, score
from bot.matching.index import CLOSED_FACTOR, KERN_BONUS, MATCH_THRESHOLD
from bot.matching.score import SEARCH_MIN_SCORE
from bot.matching.vectors import initiative_vector
from bot.semantic import get_encoder

TEXTS = {
    1: "Hondenspeeltuin in IJmuiden",
    2: "Meer bankjes in het park",
    3: "Kooklessen voor kinderen",
    4: "Zwerfafval opruimen op het strand",
    5: "Nieuwe bankjes bij de speeltuin",
}


@pytest.fixture
def index() -> MatchIndex:
    idx = MatchIndex()
    for doc_id, text in TEXTS.items():
        idx.add(doc_id, normalize(text), kern="IJmuiden")
    return idx


def ids(matches: list[Match]) -> list[int]:
    return [m.doc_id for m in matches]


def test_query_finds_the_similar_one_first(index: MatchIndex) -> None:
    matches = index.query("speeltuin voor honden")
    assert ids(matches)[0] == 1
    assert all(m.score >= MATCH_THRESHOLD for m in matches)
    assert 3 not in ids(matches)


def test_matches_are_sorted_and_limited(index: MatchIndex) -> None:
    matches = index.query("bankjes", min_score=0.0, limit=2)
    assert len(matches) <= 2
    assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)
    assert set(ids(matches)) <= {2, 5}
    assert ids(index.query("bankjes", min_score=0.0, limit=1)) == ids(matches)[:1]


def test_match_is_frozen() -> None:
    match = Match(1, 0.5)
    with pytest.raises(AttributeError):
        match.score = 1.0  # type: ignore[misc]


def test_add_update_remove_stay_consistent(index: MatchIndex) -> None:
    assert len(index) == 5
    index.update(1, normalize("Kunstgrasveld voor voetbal"), kern="IJmuiden")
    assert 1 not in ids(index.query("hondenspeeltuin"))
    assert ids(index.query("voetbalveld van kunstgras"))[0] == 1
    index.remove(1)
    assert len(index) == 4
    assert 1 not in ids(index.query("voetbalveld van kunstgras", min_score=0.0))
    index.add(1, normalize(TEXTS[1]))
    assert ids(index.query("speeltuin voor honden"))[0] == 1


def test_add_twice_and_remove_unknown_are_errors(index: MatchIndex) -> None:
    with pytest.raises(ValueError, match="already indexed"):
        index.add(1, normalize("iets anders"))
    with pytest.raises(KeyError):
        index.remove(99)
    with pytest.raises(KeyError):
        index.update(99, "bank")
    assert len(index) == 5


def test_bad_query_input(index: MatchIndex) -> None:
    assert index.query("") == []
    assert index.query("🎉 !!! ...") == []
    assert index.query("de het een") == []
    with pytest.raises(ValueError, match="limit"):
        index.query("bankjes", limit=0)


def test_same_kern_gets_a_bonus() -> None:
    idx = MatchIndex()
    idx.add(1, normalize("Meer bankjes in het park"), kern="IJmuiden")
    idx.add(2, normalize("Meer bankjes in het park"), kern="Driehuis")
    # Not an exact copy, so the bonus shows in the score and not only in the order.
    matches = idx.query("bankjes in het park bij de vijver", kern="ijmuiden ", min_score=0.0)
    assert ids(matches) == [1, 2]
    assert matches[0].score > matches[1].score
    plain = idx.query("bankjes in het park bij de vijver", min_score=0.0)
    assert plain[0].score == plain[1].score
    # An exact copy scores 1.0 either way; the same kern still comes first.
    assert ids(idx.query("Meer bankjes in het park", kern="Driehuis")) == [2, 1]


def test_closed_initiative_counts_for_less() -> None:
    idx = MatchIndex()
    idx.add(1, normalize("Meer bankjes in het park"), is_open=False)
    idx.add(2, normalize("Meer bankjes in het park"), is_open=True)
    matches = idx.query("meer bankjes in het park", min_score=0.0)
    assert ids(matches) == [2, 1]
    assert matches[1].score < matches[0].score
    idx.update(1, normalize("Meer bankjes in het park"), is_open=True)
    reopened = idx.query("meer bankjes in het park", min_score=0.0)
    assert reopened[0].score == reopened[1].score


def test_exclude_leaves_out_ids(index: MatchIndex) -> None:
    assert 1 in ids(index.query("speeltuin voor honden"))
    assert 1 not in ids(index.query("speeltuin voor honden", exclude={1}))


def test_typo_in_query_finds_candidates() -> None:
    idx = MatchIndex()
    idx.add(1, normalize("Bloembakken in de Kennemerlaan"))
    idx.add(2, normalize("Kooklessen voor kinderen"))
    assert ids(idx.query("bloembakken kennemerlaaan")) == [1]
    # A street name no lexicon knows: only the index's typo lookup can find it.
    idx.add(3, normalize("Zwanenburgwal"))
    assert ids(idx.query("Zwanenburgwaal")) == [3]


def test_min_score_overrides_threshold(index: MatchIndex) -> None:
    strict = index.query("bankjes park speeltuin", min_score=0.99)
    loose = index.query("bankjes park speeltuin", min_score=0.01)
    assert len(strict) < len(loose)
    assert all(m.score >= 0.01 for m in loose)


# --- with sentence vectors -------------------------------------------------------------------


def embedded_index(kern: str | None = None) -> tuple[MatchIndex, object]:
    """TEXTS with their vectors from the packaged model, as the bot stores them."""
    model = get_encoder()
    assert model is not None
    idx = MatchIndex()
    for doc_id, text in TEXTS.items():
        idx.add(doc_id, normalize(text), kern=kern)
        idx.set_vector(doc_id, initiative_vector(model.embed([text])))
    return idx, model


def test_no_word_in_common_is_found_by_meaning() -> None:
    idx, model = embedded_index()
    query = "Hondenspeelweide"
    assert set(normalize(query).split()).isdisjoint(normalize(TEXTS[1]).split())
    assert idx.query(query, min_score=SEARCH_MIN_SCORE) == []  # by words alone
    found = idx.query(query, min_score=SEARCH_MIN_SCORE, vector=model.embed([query])[0])
    assert ids(found) == [1]  # and nothing that is not a dog park


def test_blended_scores_keep_the_kern_bonus_and_the_closed_factor() -> None:
    idx, model = embedded_index(kern="IJmuiden")
    vector = model.embed(["Nieuwe bankjes in het park"])[0]
    plain = idx.query("Nieuwe bankjes in het park", min_score=0.0, vector=vector, limit=1)
    near = idx.query(
        "Nieuwe bankjes in het park", kern="IJmuiden", min_score=0.0, vector=vector, limit=1
    )
    assert ids(plain) == ids(near) == [2]
    assert near[0].score == pytest.approx(min(1.0, plain[0].score + KERN_BONUS), abs=1e-3)
    idx.update(2, normalize(TEXTS[2]), kern="IJmuiden", is_open=False)  # the vector stays
    closed = idx.query("Nieuwe bankjes in het park", min_score=0.0, vector=vector)
    assert closed[ids(closed).index(2)].score == pytest.approx(
        plain[0].score * CLOSED_FACTOR, abs=1e-3
    )


def test_an_initiative_without_a_vector_is_scored_by_its_words() -> None:
    idx, model = embedded_index()
    idx.set_vector(5, None)  # stored while no model could load
    text = "Meer bankjes bij de speeltuin"
    lexical = {m.doc_id: m.score for m in idx.query(text, min_score=0.0)}
    blended = {
        m.doc_id: m.score for m in idx.query(text, min_score=0.0, vector=model.embed([text])[0])
    }
    assert blended[5] == lexical[5]
    assert blended[2] != lexical[2]
    assert idx.vector(5) is None and idx.vector(2) is not None


def test_the_blend_weighs_the_vectors_with_its_diagonal_metric() -> None:
    """The index scores a pair as blend.py does from both vectors: cosine, lexical features and
    the learned diagonal metric (the query scaled by its weights, against the stored row)."""
    idx, model = embedded_index()
    text = "Meer bankjes bij de speeltuin"
    query = model.embed([text])[0]
    found = {m.doc_id: m.score for m in idx.query(text, min_score=0.0, vector=query)}
    stored = idx.vector(5)
    assert stored is not None
    features = [score.features(normalize(text).split(), normalize(TEXTS[5]).split())]
    diagonal = blend.diagonal_terms(query, stored)
    assert diagonal[0] != 0.0
    expected = blend.scores([float(query @ stored)], features, diagonal)[0]
    assert found[5] == pytest.approx(expected, abs=1e-3)
    without = blend.scores([float(query @ stored)], features)[0]
    assert without != pytest.approx(expected, abs=1e-6)
    assert blend.metric_query(np.ones(3, dtype=np.float32)) is None  # another model's size
