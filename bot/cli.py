"""`burgerbeest` on the command line: run the bot, migrate the database, and the tools around it.

Problems a person can fix (config, input files) end with one clear line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import TOKEN_ENV, Config, ConfigError, load_config
from bot.logs import configure_logging
from bot.matching.dedupe import add_dedupe_parser
from bot.routing.cli import add_route_parser
from bot.routing.examples_cli import add_examples_parser

EXIT_USAGE = 2
DEFAULT_CONFIG = Path("config.toml")

log = logging.getLogger("burgerbeest")


def _load(
    args: argparse.Namespace,
    *,
    need_token: bool = False,
    one_line: tuple[type[BaseException], ...] = (),
) -> Config:
    """The config for a command; only `run` talks to Telegram and needs the token."""
    config = load_config(args.config, need_token=need_token)
    configure_logging(config.log_level, [config.telegram.token], one_line)
    return config


@asynccontextmanager
async def database(config: Config) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The database of a command: brought up to date, then its sessions; closed after."""
    from bot.migrate import upgrade
    from models.database import create_engine, create_sessionmaker

    engine = create_engine(config.database_url)
    try:
        await upgrade(engine)
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


async def _migrate(config: Config) -> None:
    async with database(config):
        pass


def cmd_migrate(args: argparse.Namespace) -> int:
    config = _load(args)
    asyncio.run(_migrate(config))
    log.info("database is up to date")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    # The Telegram side, only for the one command that talks to Telegram.
    from telegram import Update
    from telegram.error import InvalidToken, NetworkError, TelegramError

    from handlers.app import build_application

    config = _load(args, need_token=True, one_line=(NetworkError,))
    asyncio.run(_migrate(config))
    application = build_application(config)
    log.info(
        "Burgerbeest %s starting (Bot API at %s)",
        config.municipality.name,
        config.telegram.api_base_url,
    )
    http = config.http
    try:
        if http.webhook_url:
            from handlers.web import run_webhook

            asyncio.run(run_webhook(application, http.webhook_url, http.webhook_secret))
        else:
            # A self-hosted Bot API may come up a little after the bot: retry the start a few
            # times.
            application.run_polling(allowed_updates=Update.ALL_TYPES, bootstrap_retries=5)
    except InvalidToken:
        print(
            "burgerbeest: the Bot API refused the token (check BURGERBEEST_TOKEN)", file=sys.stderr
        )
        return EXIT_USAGE
    except NetworkError as exc:
        print(
            f"burgerbeest: cannot reach the Bot API at {config.telegram.api_base_url}: {exc}",
            file=sys.stderr,
        )
        return 1
    except TelegramError as exc:
        print(f"burgerbeest: the Bot API refused to start the bot: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from bot.routing import TopicClassifier, load_taxonomy
    from bot.services.importing import (
        ImportInputError,
        import_initiatives,
        read_import_csv,
    )
    from bot.services.initiative_topics import InitiativeTopics

    config = _load(args)
    try:
        rows, unknown = read_import_csv(args.file, config.municipality.kernen)
    except ImportInputError as exc:
        print(f"burgerbeest import: {exc}", file=sys.stderr)
        return EXIT_USAGE
    source = args.source or args.file.name
    topics_file = config.questions.topics_file

    async def run() -> object:
        async with database(config) as sessions:
            with tqdm(total=len(rows), desc="import", unit="idea", file=sys.stderr) as bar:
                return await import_initiatives(
                    sessions,
                    rows,
                    source,
                    progress=bar.update,
                    topics=InitiativeTopics(TopicClassifier(load_taxonomy(topics_file))),
                )

    report = asyncio.run(run())
    print(
        f"{len(report.imported)} initiatives imported from {args.file}"
        f" ({report.already_there} were already there, source {source!r})."
    )
    if unknown:
        print(f"Kernen not in the config, kept as written: {', '.join(sorted(unknown))}")
    if report.imported:
        per_topic = sorted(report.topics.items(), key=lambda kv: (-kv[1], kv[0] or "~"))
        print("Topics: " + ", ".join(f"{key or 'onbekend'} {n}" for key, n in per_topic))
    print(f"{len(report.duplicates)} possible duplicates (score >= threshold):")
    for id_a, title_a, id_b, title_b, score in report.duplicates[: args.show]:
        print(f"  #{id_a} {title_a!r} ~ #{id_b} {title_b!r}  ({score:.2f})")
    if len(report.duplicates) > args.show:
        print(f"  … and {len(report.duplicates) - args.show} more")
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    from testing.sandbox import SANDBOX_TOKEN, Sandbox

    # The sandbox has its own token and stand-in; a real token in the environment is not used.
    config = load_config(args.config, environ={TOKEN_ENV: SANDBOX_TOKEN})
    configure_logging("WARNING", [SANDBOX_TOKEN])
    if args.demo:
        import tempfile

        from testing.demo import run_demo

        # A fresh database each time, kept afterwards for the files the demo saved.
        directory = args.dir or Path(tempfile.mkdtemp(prefix="burgerbeest-demo-"))
        directory.mkdir(parents=True, exist_ok=True)
        return asyncio.run(run_demo(config, directory))
    directory = args.dir or Path(".sandbox")
    directory.mkdir(parents=True, exist_ok=True)
    return asyncio.run(Sandbox(config, directory).run())


def cmd_invite(args: argparse.Namespace) -> int:
    """Print a new invite code once; only its hash is stored."""
    from bot.services.invites import InviteService
    from models import Role

    config = _load(args)
    role = Role(args.role)

    async def run() -> tuple[str, object]:
        async with database(config) as sessions:
            service = InviteService(sessions, config.questions.invite_days)
            return await service.create(role, handle=args.handle)

    code, invite = asyncio.run(run())
    expires = invite.expires_at.astimezone(config.municipality.tz)  # type: ignore[attr-defined]
    print(code)
    print(
        f"Single use, valid until {expires:%Y-%m-%d %H:%M}. The {role.value} sends the bot:"
        f" /aanmelden {code}",
        file=sys.stderr,
    )
    return 0


def cmd_offboard(args: argparse.Namespace) -> int:
    """A civil servant leaves: questions re-routed, personal data erased."""
    from bot.services import Services

    config = _load(args)

    async def run() -> object:
        async with database(config) as sessions:
            services = Services.create(sessions, config)
            servant = await services.civil_servants.find(args.who)
            if servant is None:
                return None
            left = await services.questions.offboard(servant.id)
            if left is not None:
                # All of it, their conversation state too: an open /profiel edit in it would
                # write the old profile back.
                await services.privacy.erase(left.telegram_id)
            return left

    left = asyncio.run(run())
    if left is None:
        print(f"burgerbeest offboard: no civil servant {args.who!r}", file=sys.stderr)
        return EXIT_USAGE
    print(
        f"{left.name} has left: {left.rerouted} open questions re-routed (the bot sends them on"
        " at its next dispatch), personal data erased."
    )
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    """A civil servant's or moderator's role taken away; the person stays, as a resident."""
    from bot.services import Services
    from bot.services.staff import Revoked
    from bot.services.text_input import parse_telegram_id

    telegram_id = parse_telegram_id(args.telegram_id)
    if telegram_id is None:
        print(f"burgerbeest revoke: {args.telegram_id!r} is not a Telegram id", file=sys.stderr)
        return EXIT_USAGE
    config = _load(args)

    async def run() -> Revoked | None:
        async with database(config) as sessions:
            return await Services.create(sessions, config).staff.revoke(telegram_id)

    revoked = asyncio.run(run())
    if revoked is not None and (left := revoked.offboarded) is not None:
        print(
            f"{left.name} ({telegram_id}) is no longer a civil servant: {left.rerouted} open"
            " questions re-routed (the bot sends them on at its next dispatch), profile cleared;"
            " they stay a resident."
        )
    elif revoked is not None:
        print(f"{telegram_id} is no longer a moderator; they stay a resident.")
    # The config is read, never written: a configured moderator stays one until removed there.
    if telegram_id in config.questions.moderators:
        print(
            f"burgerbeest revoke: {telegram_id} is a moderator by {config.path}"
            " ([moderators] telegram_ids) and stays one: remove the id there and restart the bot.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if revoked is None:
        print(f"burgerbeest revoke: {telegram_id} has no role to revoke", file=sys.stderr)
        return EXIT_USAGE
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Anonymised CSVs for the council."""
    from bot.routing import load_taxonomy
    from bot.services.stats import StatsService, write_csv
    from bot.workdays import WorkingCalendar

    config = _load(args)

    async def run() -> object:
        async with database(config) as sessions:
            service = StatsService(
                sessions,
                WorkingCalendar(config.municipality.tz),
                load_taxonomy(config.questions.topics_file),
            )
            return await service.export_tables()

    for path in write_csv(args.out, asyncio.run(run())):  # type: ignore[arg-type]
        print(path)
    return 0


def _config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_CONFIG,
        help="the configuration file (default: ./config.toml)",
    )


def cmd_config_reference(args: argparse.Namespace) -> int:
    from bot.config_fields import reference

    print(reference(), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="burgerbeest", description="Burgerbeest: the municipality's connector on Telegram."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser("run", help="start the bot (long polling)")
    _config_argument(run)
    run.set_defaults(handler=cmd_run)
    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    _config_argument(migrate)
    migrate.set_defaults(handler=cmd_migrate)
    importer = commands.add_parser(
        "import",
        help="load an existing list of ideas (CSV: title[,id,description,kern])",
        description="Import ideas from a CSV file with a header row: title (required), "
        "id, description, kern. Re-running the same file adds nothing twice.",
    )
    importer.add_argument("file", type=Path, metavar="FILE.csv")
    importer.add_argument("--source", help="name of the list (default: the file name)")
    importer.add_argument("--show", type=int, default=20, help="duplicate pairs to print")
    _config_argument(importer)
    importer.set_defaults(handler=cmd_import)
    add_dedupe_parser(commands)
    export = commands.add_parser(
        "export", help="write anonymised CSVs (initiatives, questions, introductions)"
    )
    export.add_argument("--out", type=Path, default=Path("export"), help="folder (./export)")
    _config_argument(export)
    export.set_defaults(handler=cmd_export)
    offboard = commands.add_parser(
        "offboard",
        help="a civil servant leaves: re-route their open questions and erase their data",
    )
    offboard.add_argument("who", help="their handle, or their Telegram id")
    _config_argument(offboard)
    offboard.set_defaults(handler=cmd_offboard)
    revoke = commands.add_parser(
        "revoke",
        help="take a civil servant's or moderator's role away (they stay a resident)",
        description="A civil servant's open questions go to their backup (or are routed anew, or"
        " to triage) and their profile is cleared; a moderator stops being one. A moderator in"
        " config.toml ([moderators] telegram_ids) stays one until removed there.",
    )
    revoke.add_argument("telegram_id", help="their Telegram id")
    _config_argument(revoke)
    revoke.set_defaults(handler=cmd_revoke)
    sandbox = commands.add_parser(
        "sandbox",
        help="try the bot in this terminal against a local stand-in of Telegram (no token needed)",
    )
    sandbox.add_argument(
        "--config",
        type=Path,
        default=Path("config.example.toml"),
        help="the municipality to try (default: ./config.example.toml)",
    )
    sandbox.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="where the sandbox keeps its database and the files the bot sends"
        " (default: ./.sandbox; with --demo a new temporary directory)",
    )
    sandbox.add_argument(
        "--demo",
        action="store_true",
        help="play a scripted story (an introduction, a question answered, an announcement)",
    )
    sandbox.set_defaults(handler=cmd_sandbox)
    add_route_parser(commands)
    add_examples_parser(commands)
    invite = commands.add_parser(
        "invite",
        help="make an invite code for a civil servant or a moderator (shown once)",
        description="Print a single-use invite code; the person sends /aanmelden CODE to the bot.",
    )
    invite.add_argument("--role", choices=["ambtenaar", "moderator"], required=True)
    invite.add_argument("--handle", help="the name routing rules use for this civil servant")
    _config_argument(invite)
    invite.set_defaults(handler=cmd_invite)
    reference = commands.add_parser(
        "config-reference", help="print every setting of config.toml (Markdown)"
    )
    reference.set_defaults(handler=cmd_config_reference)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except ConfigError as exc:
        print(f"burgerbeest: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
