"""integrity: ids never reused, references instead of words in scheduled work

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05

"""

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tables whose ids name scheduled work, travel in buttons or keys, or are quoted to people
# (ticket numbers): SQLite must never hand out an id again once its row is deleted.
# PostgreSQL's sequences never do.
NEVER_REUSED = (
    "users",
    "civil_servants",
    "initiatives",
    "introductions",
    "questions",
    "question_events",
    "broadcasts",
    "posts",
)
# Keys of scheduled work that name a row: the id they hold was used, even if the row is gone.
_KEYED = {
    "initiatives": re.compile(r"check-in:(\d+)"),
    "posts": re.compile(r"post-published:(\d+)"),
}
_LOGGED = {"initiatives": "initiative", "posts": "post", "broadcasts": "broadcast", "users": "user"}

# Notices whose words now come from a question event at send time: value name, event kind.
_EVENT_WORDS = {
    "vraag.reply_to_servant": ("reply", "resident_replied"),
    "vraag.answer_to_resident": ("answer", "answered"),
    "vraag.info_to_resident": ("request", "info_requested"),
}
CHECK_IN = "idee.check_in"

_work = sa.table(
    "scheduled_work",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("state", sa.String),
    sa.column("question_id", sa.Integer),
    sa.column("recipient_id", sa.Integer),
    sa.column("payload", sa.JSON),
    sa.column("key", sa.String),
)
_events = sa.table(
    "question_events",
    sa.column("id", sa.Integer),
    sa.column("question_id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("text", sa.Text),
)
_initiatives = sa.table("initiatives", sa.column("id", sa.Integer), sa.column("title", sa.String))
_users = sa.table(
    "users",
    sa.column("id", sa.Integer),
    sa.column("telegram_id", sa.BigInteger),
    sa.column("display_name", sa.String),
    sa.column("username", sa.String),
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for table in NEVER_REUSED:
            _rebuild(bind, table, autoincrement=True)
        _past_used_ids(bind)
    # What erasure leaves from now on: an erased person (the placeholder under -id) has no
    # scheduled work, and no scheduled work holds words.
    bind.execute(
        sa.delete(_work).where(
            _work.c.recipient_id.in_(
                sa.select(_users.c.id).where(_users.c.telegram_id == -_users.c.id)
            )
        )
    )
    _words_to_references(bind)
    _clean_names(bind)


def downgrade() -> None:
    bind = op.get_bind()
    _references_to_words(bind)
    if bind.dialect.name == "sqlite":
        for table in NEVER_REUSED:
            _rebuild(bind, table, autoincrement=False)


def _rebuild(bind: sa.Connection, table: str, *, autoincrement: bool) -> None:
    """SQLite's table rebuild (https://sqlite.org/lang_altertable.html#otheralter) with the
    primary key declared AUTOINCREMENT, or no longer. The table's own CREATE statement is
    rewritten rather than reflected (batch mode), which keeps every other clause as it is and
    takes milliseconds. Foreign keys are off meanwhile (bot.migrate), so the drop deletes
    nothing elsewhere."""
    create = bind.scalar(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"), {"t": table}
    )
    indexes = bind.scalars(
        sa.text(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t"
            " AND sql IS NOT NULL"
        ),
        {"t": table},
    ).all()
    column = "\tid INTEGER NOT NULL, \n"
    auto = f"\tid INTEGER NOT NULL CONSTRAINT pk_{table} PRIMARY KEY AUTOINCREMENT, \n"
    clause = f"\tCONSTRAINT pk_{table} PRIMARY KEY (id), \n"
    others = "\tCONSTRAINT "  # every table here has other named constraints after the key
    expected = (column, clause) if autoincrement else (auto, others)
    if create.count(expected[0]) != 1 or expected[1] not in create:
        raise RuntimeError(f"{table}: the primary key is not declared as expected: {create}")
    if autoincrement:
        create = create.replace(clause, "").replace(column, auto)
    else:
        create = create.replace(auto, column).replace(others, clause + others, 1)
    create = re.sub(rf'^CREATE TABLE "?{table}"? \(', f"CREATE TABLE _new_{table} (", create)
    bind.exec_driver_sql(create)
    bind.exec_driver_sql(f"INSERT INTO _new_{table} SELECT * FROM {table}")  # noqa: S608
    bind.exec_driver_sql(f"DROP TABLE {table}")
    bind.exec_driver_sql(f"ALTER TABLE _new_{table} RENAME TO {table}")
    for index in indexes:
        bind.exec_driver_sql(index)


def _past_used_ids(bind: sa.Connection) -> None:
    """The id counters start above every id known to have been used, also of rows deleted
    before: the keys of scheduled work and the moderation log still name them."""
    used: dict[str, int] = {}
    for (key,) in bind.execute(sa.select(_work.c.key).where(_work.c.key.is_not(None))):
        for table, pattern in _KEYED.items():
            if match := pattern.fullmatch(key):
                used[table] = max(used.get(table, 0), int(match[1]))
    logged = bind.execute(
        sa.text("SELECT target_kind, MAX(target_id) FROM moderation_log GROUP BY target_kind")
    )
    for kind, highest in logged:
        for table, logged_kind in _LOGGED.items():
            if kind == logged_kind and highest is not None:
                used[table] = max(used.get(table, 0), int(highest))
    for table in NEVER_REUSED:
        highest = bind.scalar(sa.text(f"SELECT MAX(id) FROM {table}")) or 0  # noqa: S608
        seq = max(highest, used.get(table, 0))
        bind.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = :t"), {"t": table})
        if seq:
            bind.execute(
                sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :s)"),
                {"t": table, "s": seq},
            )


def _notices(bind: sa.Connection) -> list[Any]:
    return list(
        bind.execute(
            sa.select(_work.c.id, _work.c.state, _work.c.question_id, _work.c.payload).where(
                _work.c.kind == "notice"
            )
        )
    )


def _words_to_references(bind: sa.Connection) -> None:
    """A check-in keeps the initiative's id, not its title; a civil servant's or resident's
    words become the id of the question event that holds them. Words with no event to point
    at are dropped, and a message still owed without them is not sent."""
    for row in _notices(bind):
        payload = dict(row.payload or {})
        values = dict(payload.get("values") or {})
        state = row.state
        if payload.get("key") == CHECK_IN:
            values.pop("title", None)
            values.pop("number", None)
        elif payload.get("key") in _EVENT_WORDS:
            name, kind = _EVENT_WORDS[payload["key"]]
            words = values.pop(name, None)
            event_id = bind.scalar(
                sa.select(sa.func.max(_events.c.id)).where(
                    _events.c.question_id == row.question_id,
                    _events.c.kind == kind,
                    _events.c.text == words,
                )
            )
            if event_id is not None:
                payload["event_texts"] = {name: event_id}
            elif state == "pending":
                state = "cancelled"
        else:
            continue
        payload["values"] = values
        bind.execute(
            sa.update(_work).where(_work.c.id == row.id).values(payload=payload, state=state)
        )


def _references_to_words(bind: sa.Connection) -> None:
    """Back to the words in the row, for the code before this revision."""
    for row in _notices(bind):
        payload = dict(row.payload or {})
        values = dict(payload.get("values") or {})
        if payload.get("key") == CHECK_IN:
            number = payload.get("initiative_id")
            title = bind.scalar(sa.select(_initiatives.c.title).where(_initiatives.c.id == number))
            values.update(title=title or "", number=number)
        elif references := payload.pop("event_texts", None):
            for name, event_id in references.items():
                text = bind.scalar(sa.select(_events.c.text).where(_events.c.id == event_id))
                values[name] = text or ""
        else:
            continue
        payload["values"] = values
        bind.execute(sa.update(_work).where(_work.c.id == row.id).values(payload=payload))


def _clean(name: str | None, limit: int) -> str | None:
    """Names as bot.services.users cleans them now (a copy, so this revision stays as it is):
    no format or control characters (bidi overrides), one line, at most `limit` long."""
    if not name:
        return None
    name = unicodedata.normalize("NFC", name)
    name = "".join(
        ch
        for ch in name
        if ch == "\u200d" or unicodedata.category(ch) not in ("Cf", "Cc", "Cs", "Co", "Cn")
    )
    name = " ".join(name.split())
    if len(name) > limit:
        name = name[: limit - 1].rstrip() + "…"
    return name or None


def _clean_names(bind: sa.Connection) -> None:
    rows = bind.execute(
        sa.select(_users.c.id, _users.c.display_name, _users.c.username).where(
            (_users.c.display_name.is_not(None)) | (_users.c.username.is_not(None))
        )
    )
    for user_id, display_name, username in list(rows):
        cleaned = (_clean(display_name, 128), _clean(username, 64))
        if cleaned != (display_name, username):
            bind.execute(
                sa.update(_users)
                .where(_users.c.id == user_id)
                .values(display_name=cleaned[0], username=cleaned[1])
            )
