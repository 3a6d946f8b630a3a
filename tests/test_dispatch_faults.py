"""A dispatch of digests and urgent cards by the bot as its own process while the Bot API
misbehaves: flood control (429 with retry_after), a bad gateway (5xx), a timeout, and two civil
servants who blocked the bot, one with a backup and one without. Every question reaches someone
exactly once: its civil servant, the backup, or the moderators' triage queue."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from models import WorkKind, WorkState
from testing.fake_telegram.server import FakeBotApi
from tests.live import (
    TOKEN,
    WAIT,
    Servant,
    bot_process,
    delivered_numbers,
    scheduled_work,
    seed_questions,
    wait_until_dispatched,
    write_config,
)

MODERATOR = 9000
ANNA, BEP, COR, DIRK, EVA = 7001, 7002, 7003, 7004, 7005
SERVANTS = (
    Servant(ANNA, "Anna Afval", "openbare-ruimte/afval"),
    Servant(BEP, "Bep Groen", "openbare-ruimte/groen"),
    Servant(COR, "Cor Spoed", "openbare-ruimte/gevaarlijke-situatie"),  # urgent: no digest
    Servant(DIRK, "Dirk Licht", "openbare-ruimte/verlichting", backup=BEP),
    Servant(EVA, "Eva Riool", "openbare-ruimte/riolering-water"),  # nobody else has her topic
)
PER_SERVANT = 12
HEADER = "van inwoners voor je"


def test_digests_under_429_5xx_a_timeout_and_blocked_civil_servants(
    tmp_path: Path, database_url: str
) -> None:
    topics = [s.topic for s in SERVANTS for _ in range(PER_SERVANT)]
    random.Random(6).shuffle(topics)
    seed_questions(database_url, SERVANTS, topics)
    assignee = {w.number: w.assignee for w in scheduled_work(database_url) if w.number}
    with FakeBotApi(TOKEN, strict=False) as api:
        config = write_config(tmp_path, api, database_url)
        with config.open("a", encoding="utf-8") as extra:
            extra.write(f"[moderators]\ntelegram_ids = [{MODERATOR}]\n")
        # Anna's digest meets flood control twice, Bep's a bad gateway three times (the
        # first calls to their chats: the digest headers); Cor's first urgent card gets no
        # answer within the bot's 5 s read timeout (8 s: a margin for a loaded machine),
        # although Telegram delivers it.
        api.inject("sendMessage", chat_id=ANNA, error_code=429, retry_after=1, times=2)
        api.inject("sendMessage", chat_id=BEP, error_code=502, times=3)
        api.delay("sendMessage", 8.0, chat_id=COR, times=1)
        api.block(DIRK)
        api.block(EVA)
        with bot_process(config, tmp_path / "bot.log"):
            wait_until_dispatched(database_url, timeout=WAIT)
            timed_out = api.wait_for_sync(
                "sendMessage", lambda c: c.duration >= 5, chat_id=COR, timeout=WAIT
            )
        calls = api.calls("sendMessage")
        delivered = delivered_numbers(api)
    work = scheduled_work(database_url)
    faults = Counter(c.error_code for c in calls if not c.ok)
    duplicated = {n: chats for n, chats in delivered.items() if sum(chats.values()) > 1}
    lost = sorted(set(assignee) - set(delivered))
    unknown = [w for w in work if w.state is WorkState.UNKNOWN]
    print(
        f"dispatch faults: {len(assignee)} questions, {len(delivered)} forwarded, faults "
        f"{dict(sorted(faults.items()))} + 1 timeout, {len(unknown)} unknown, {len(lost)} lost, "
        f"{len(duplicated)} duplicated"
    )
    assert lost == [] and duplicated == {}

    # Everyone's questions reached the right person: Dirk's went to his backup Bep, Eva's (no
    # backup, no colleague for her topic) to the moderators.
    reached = {ANNA: ANNA, BEP: BEP, COR: COR, DIRK: BEP, EVA: MODERATOR}
    for number, chats in delivered.items():
        assert set(chats) == {reached[assignee[number]]}, number

    # 429: waited out (retry_after 1 s), then the header went through once.
    to_anna = [c for c in calls if c.chat_id == ANNA]
    assert [c.error_code for c in to_anna[:3]] == [429, 429, None]
    assert to_anna[2].monotonic - to_anna[1].monotonic >= 1.0
    # 5xx: retried by the HTTP layer, then the header went through once.
    to_bep = [c for c in calls if c.chat_id == BEP]
    assert [c.error_code for c in to_bep[:4]] == [502, 502, 502, None]
    headers = Counter(c.chat_id for c in calls if c.ok and HEADER in c.text)
    assert headers == {ANNA: 1, BEP: 1}

    # The timeout: Telegram delivered the card, the bot could not know; never sent again.
    [number] = {n for n in delivered if n in timed_out.text}
    assert sum(number in c.text for c in calls) == 1
    assert [(w.kind, w.number) for w in unknown] == [(WorkKind.DELIVER, number)]

    # The blocked: one 403 each (their digest header), nothing more tried; their questions
    # handed on with their reminder and escalation.
    assert [c.error_code for c in calls if c.chat_id in (DIRK, EVA)] == [403, 403]
    rerouted = [w for w in work if w.kind is WorkKind.DELIVER and w.recipient == BEP]
    assert sum(assignee[w.number] == DIRK for w in rerouted) == PER_SERVANT
    assert all(w.assignee == BEP for w in rerouted)
    triaged = [w for w in work if w.recipient == MODERATOR]
    assert len(triaged) == PER_SERVANT and all(w.assignee is None for w in triaged)
    assert all(w.state is WorkState.DONE for w in rerouted + triaged)
    log = (tmp_path / "bot.log").read_text(encoding="utf-8")
    assert "Traceback" not in log
