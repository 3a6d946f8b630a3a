"""Reading config.toml: good files load, every bad one ends in one clear line and exit 2."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import TOKEN_ENV, ConfigError, load_config

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:AAsecret-token-value_xyz"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def example(tmp_path: Path) -> Path:
    return Path(shutil.copy(ROOT / "config.example.toml", tmp_path / "config.toml"))


def test_the_example_config_loads_with_the_token_from_the_environment(tmp_path: Path) -> None:
    config = load_config(example(tmp_path), environ={TOKEN_ENV: TOKEN})
    assert config.telegram.token == TOKEN
    assert config.municipality.name == "Velsen"
    assert config.municipality.kernen[0] == "IJmuiden" and len(config.municipality.kernen) == 7
    assert config.municipality.timezone == "Europe/Amsterdam"
    # SQLite next to the config file by default.
    assert config.database_url == f"sqlite+aiosqlite:///{tmp_path.resolve()}/burgerbeest.sqlite3"
    assert config.telegram.base_url == "https://api.telegram.org/bot"
    assert TOKEN not in repr(config)


def test_the_environment_overrides_the_token_in_the_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[telegram]\ntoken = "1:fromfile"\n[municipality]\nname = "Velsen"\nkernen = ["A"]\n',
    )
    assert load_config(path, environ={}).telegram.token == "1:fromfile"
    assert load_config(path, environ={TOKEN_ENV: TOKEN}).telegram.token == TOKEN


@pytest.mark.parametrize(
    ("given", "base", "files"),
    [
        ("http://127.0.0.1:8081", "http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/file/bot"),
        ("http://127.0.0.1:8081/", "http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/file/bot"),
        (
            "http://127.0.0.1:8081/bot",
            "http://127.0.0.1:8081/bot",
            "http://127.0.0.1:8081/file/bot",
        ),
    ],
)
def test_a_self_hosted_api_base_url_works_in_both_spellings(
    tmp_path: Path, given: str, base: str, files: str
) -> None:
    path = write(
        tmp_path,
        f'[telegram]\napi_base_url = "{given}"\n'
        '[municipality]\nname = "Velsen"\nkernen = ["IJmuiden"]\n',
    )
    telegram = load_config(path, environ={TOKEN_ENV: TOKEN}).telegram
    assert (telegram.base_url, telegram.base_file_url) == (base, files)


BAD = [
    ("", "[telegram] token is missing (or set BURGERBEEST_TOKEN)", {}),
    ("[telegram\n", "is not valid TOML", {TOKEN_ENV: TOKEN}),
    ('[telegram]\ntoken = "not a token"\n', "[telegram] token does not look like", {}),
    ('[telegram]\napi_base_url = "ftp://x"\n', "[telegram] api_base_url must start", None),
    ('[municipality]\nname = "V"\nkernen = []\n', "[municipality] kernen must be", None),
    ('[municipality]\nname = "V"\nkernen = ["A", "a"]\n', "[municipality] kernen contains", None),
    ('[municipality]\nkernen = ["A"]\n', "[municipality] name is missing", None),
    ('[municipality]\nname = 3\nkernen = ["A"]\n', "[municipality] name must be a string", None),
    (
        '[municipality]\nname = "V"\nkernen = ["A"]\ntimezone = "Mars/Base"\n',
        "[municipality] timezone is not a known time zone",
        None,
    ),
    (
        '[database]\nurl = "mysql://x"\n[municipality]\nname="V"\nkernen=["A"]\n',
        "[database] url",
        None,
    ),
    (
        '[bot]\ndefault_language = "de"\n[municipality]\nname="V"\nkernen=["A"]\n',
        "[bot] default",
        None,
    ),
    ("telegram = 5\n", "[telegram] must be a table", None),
]


@pytest.mark.parametrize(("text", "message", "environ"), BAD)
def test_bad_config_names_file_and_key(
    tmp_path: Path, text: str, message: str, environ: dict[str, str] | None
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={TOKEN_ENV: TOKEN} if environ is None else environ)
    assert str(caught.value).startswith(str(path))
    assert message in str(caught.value)


def test_a_malformed_token_is_never_echoed(tmp_path: Path) -> None:
    secret = "12345:has spaces-and-secret-stuff"
    path = write(tmp_path, f'[telegram]\ntoken = "{secret}"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert "secret-stuff" not in str(caught.value)


@pytest.mark.parametrize("command", ["run", "migrate"])
def test_the_cli_prints_one_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, monkeypatch
) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    missing = tmp_path / "nope.toml"
    assert main([command, "--config", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err == f"burgerbeest: {missing} does not exist\n"

    broken = write(tmp_path, "[municipality\n")
    assert main([command, "--config", str(broken)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not valid TOML" in err and "Traceback" not in err


def test_migrate_creates_the_database_next_to_the_config_without_a_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Only `run` talks to Telegram: the rest works before anyone has a token.
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    path = example(tmp_path)
    assert main(["migrate", "--config", str(path)]) == 0
    assert (tmp_path / "burgerbeest.sqlite3").exists()
    # Running it again is a no-op, not an error.
    assert main(["migrate", "--config", str(path)]) == 0
    assert main(["export", "--config", str(path), "--out", str(tmp_path / "csv")]) == 0
    capsys.readouterr()
    assert main(["run", "--config", str(path)]) == 2
    assert "token is missing" in capsys.readouterr().err
    # A token that is there must still look like one, for every command.
    monkeypatch.setenv(TOKEN_ENV, "not a token")
    assert main(["migrate", "--config", str(path)]) == 2


def _http_config(tmp_path: Path, body: str, environ: dict[str, str] | None = None):
    path = write(tmp_path, body + '[municipality]\nname = "V"\nkernen = ["A"]\n')
    return load_config(path, environ={TOKEN_ENV: TOKEN, **(environ or {})})


def test_polling_is_the_default_and_http_is_off(tmp_path: Path) -> None:
    http = _http_config(tmp_path, "").http
    assert (http.port, http.webhook_url) == (0, "")


def test_webhook_mode_takes_its_secret_from_the_environment(tmp_path: Path) -> None:
    body = '[http]\nport = 8080\n[webhook]\nurl = "https://bot.example.nl/telegram"\n'
    http = _http_config(tmp_path, body, {"BURGERBEEST_WEBHOOK_SECRET": "s3cret_-"}).http
    assert (http.port, http.webhook_url, http.webhook_secret) == (
        8080,
        "https://bot.example.nl/telegram",
        "s3cret_-",
    )
    assert "s3cret" not in repr(http)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[webhook]\nurl = "https://x/t"\nsecret_token = "abc"\n', "[http] port must be set"),
        ('[http]\nport = 8080\n[webhook]\nurl = "https://x/t"\n', "[webhook] secret_token is"),
        (
            '[http]\nport = 8080\n[webhook]\nurl = "https://x/t"\nsecret_token = "no spaces"\n',
            "[webhook] secret_token is",
        ),
        ("[http]\nport = 70000\n", "[http] port must be a port number"),
        ('[http]\nport = "80"\n', "[http] port must be a port number"),
        ('[webhook]\npath = "telegram"\n', "[webhook] path must start with /"),
    ],
)
def test_bad_http_settings(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _http_config(tmp_path, body)
    assert message in str(caught.value)


def test_retention_days(tmp_path: Path) -> None:
    assert _http_config(tmp_path, "").retention_days == 365
    assert _http_config(tmp_path, "[privacy]\nretention_days = 30\n").retention_days == 30
    with pytest.raises(ConfigError) as caught:
        _http_config(tmp_path, "[privacy]\nretention_days = 0\n")
    assert "[privacy] retention_days must be a whole number of days" in str(caught.value)


def test_the_configuration_reference_is_made_from_the_field_table() -> None:
    from bot.config_fields import reference

    assert (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8") == reference(), (
        "docs/configuration.md is stale: burgerbeest config-reference > docs/configuration.md"
    )


def test_every_setting_of_the_example_is_in_the_field_table() -> None:
    import tomllib

    from bot.config_fields import FIELDS

    known = {field.where for field in FIELDS}
    data = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    given = set()
    for section, table in data.items():
        if isinstance(table, dict):
            given |= {f"{section}.{key}" for key in table}
        else:
            given.add(section)
    assert given <= known, given - known


def test_a_bad_dispatch_time_names_its_key(tmp_path: Path) -> None:
    body = '[dispatch]\ntimes = ["9 uur"]\n[municipality]\nname = "V"\nkernen = ["A"]\n'
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, body), environ={TOKEN_ENV: TOKEN})
    assert "[dispatch] times has '9 uur', not a time" in str(caught.value)
