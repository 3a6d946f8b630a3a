"""`burgerbeest routing examples|forget ID|import FILE.csv`: what routing learned, from the
command line (the bot's /geleerd is the same for moderators in the chat).

A running bot picks up a forgotten or imported example at its next refresh (within a minute).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from pathlib import Path
from typing import Any

EXIT_USAGE = 2


def add_examples_parser(subparsers: Any) -> None:
    routing = subparsers.add_parser(
        "routing",
        help="what topic routing learned from people's choices: list, forget, import",
        description="Labelled examples routing learned from residents' picks, forwards and "
        "triage assignments.",
    )
    actions = routing.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("examples", help="list the examples, newest first")
    listing.add_argument("--limit", type=int, default=50, help="how many (default 50)")
    forget = actions.add_parser("forget", help="undo one example (logged in the audit log)")
    forget.add_argument("id", type=int, help="the example's number")
    importer = actions.add_parser(
        "import", help="learn examples from a CSV with the columns text,topic"
    )
    importer.add_argument("file", type=Path, metavar="FILE.csv")
    for parser in (listing, forget, importer):
        _config_argument(parser)
    routing.set_defaults(handler=cmd_routing)


def _config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, default=Path("config.toml"), help="the configuration file"
    )


def cmd_routing(args: argparse.Namespace) -> int:
    from bot.cli import _load, _migrate
    from bot.services.questions import QuestionService
    from models.database import create_engine, create_sessionmaker

    config = _load(args)

    async def run() -> int:
        await _migrate(config)
        engine = create_engine(config.database_url)
        try:
            questions = QuestionService(create_sessionmaker(engine), config.questions)
            examples = questions.examples
            if args.action == "examples":
                for learned in await examples.recent(args.limit):
                    words = (learned.text or "").replace("\n", " ")[:60]
                    print(
                        f"#{learned.id}\t{learned.created_at:%Y-%m-%d %H:%M}\t"
                        f"{learned.topic_key}\t{learned.source.value}\t"
                        f"{learned.question_number or '-'}\t{words}"
                    )
                return 0
            if args.action == "forget":
                gone = await examples.forget(args.id, None)
                if gone is None:
                    print(f"burgerbeest routing: no example #{args.id}", file=sys.stderr)
                    return EXIT_USAGE
                print(f"example #{gone.id} ({gone.topic_key}) forgotten")
                return 0
            await examples.prepare()
            try:
                learned, skipped = await examples.import_csv(args.file)
            except (OSError, ValueError, csv.Error) as exc:
                print(f"burgerbeest routing import: {exc}", file=sys.stderr)
                return EXIT_USAGE
            print(f"{learned} examples learned from {args.file}")
            for line in skipped:
                print(f"  left out: {line}")
            return 0
        finally:
            await engine.dispose()

    return asyncio.run(run())
