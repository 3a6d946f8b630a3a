"""The tree's contract: bot/ knows nothing of Telegram; the flows never import the assembly; every
flow module registers itself."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _module_imports(path: Path) -> set[str]:
    """The modules a file imports at its top level (imports inside functions are the CLI's
    lazy way into the Telegram side for `burgerbeest run`, on purpose)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_bot_is_free_of_telegram() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            n for n in _module_imports(path) if n.split(".")[0] in ("telegram", "handlers")
        )
        for path in (ROOT / "bot").rglob("*.py")
    }
    assert not {k: v for k, v in offenders.items() if v}


def test_no_flow_imports_the_assembly() -> None:
    """handlers/app.py imports every flow; a flow importing it back would be a cycle."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "handlers").rglob("*.py")
        if path.name != "app.py" and "handlers.app" in _module_imports(path)
    ]
    assert not offenders


def test_the_readme_is_a_front_door_whose_links_lead_somewhere() -> None:
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme) <= 6_000
    links = re.findall(r"\]\(([^)#]+)\)", readme)
    assert links, "the README links to the guides"
    assert [link for link in links if not (ROOT / link).exists()] == []


def test_every_flow_module_has_a_register() -> None:
    """handlers/__init__.py registers the flows one by one, in the order they are tried, so each
    flow module (all but a package's shared.py of helpers) brings its own register()."""
    flows = [
        path
        for role in ("residents", "civil_servants", "moderators")
        for path in (ROOT / "handlers" / role).glob("*.py")
        if path.name not in ("__init__.py", "shared.py")
    ]
    assert len(flows) > 20
    missing = [
        str(path.relative_to(ROOT))
        for path in flows
        if not any(
            isinstance(node, ast.FunctionDef) and node.name == "register"
            for node in ast.parse(path.read_text(encoding="utf-8")).body
        )
    ]
    assert not missing


# --- callback data: one codec (handlers/callbacks.py) ----------------------------------------


def _declared_buttons() -> dict[str, list[object]]:
    """Every Button the handlers declare, by prefix (an import elsewhere is the same object)."""
    import importlib
    import pkgutil

    import handlers
    from handlers.callbacks import Button

    found: dict[str, dict[int, object]] = {}
    for info in pkgutil.walk_packages(handlers.__path__, "handlers."):
        for value in vars(importlib.import_module(info.name)).values():
            if isinstance(value, Button):
                found.setdefault(value.prefix, {})[id(value)] = value
    return {prefix: list(objects.values()) for prefix, objects in found.items()}


def _raw_callback_strings(path: Path, buttons: list) -> list[str]:
    """String literals in a test that a declared Button would take: such data is built with
    that Button. (Garbage no Button takes, for forged presses, may stay a literal.)"""
    hits = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        taken = (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and any(button.parse(node.value) is not None for button in buttons)
        )
        if taken:
            hits.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    return hits


def test_buttons_are_declared_once_and_fit_telegram() -> None:
    buttons = _declared_buttons()
    assert len(buttons) >= 40, sorted(buttons)  # every flow's presses are declared
    every = [button for declared in buttons.values() for button in declared]
    # Declared once, and no press is taken by two kinds of button: a sample of each parses
    # only as itself.
    for button in every:
        sample = button.build(*(_sample(field) for field in button.fields))
        assert [b for b in every if b.parse(sample) is not None] == [button], sample


def _sample(field: object) -> object:
    first = field[0] if isinstance(field, tuple) else field
    return {int: 1, str: "x"}.get(first, first)  # type: ignore[call-overload]


def test_handlers_build_and_read_callback_data_only_through_the_codec() -> None:
    offenders = []
    for path in (ROOT / "handlers").rglob("*.py"):
        if path.name == "callbacks.py":
            continue
        source = path.read_text(encoding="utf-8")
        for needle in ('split(":")', 'rsplit(":"', 'callback_data=f"', 'pattern=r"^', 'pattern="^'):
            if needle in source:
                offenders.append(f"{path.relative_to(ROOT)}: {needle}")
    assert offenders == []


def test_no_test_presses_a_raw_callback_string() -> None:
    """Tests press by a Button's build() or by the label a person reads; `forge` presses
    garbage no button carries."""
    buttons = [b for declared in _declared_buttons().values() for b in declared]
    skip = {"test_callbacks.py", "test_layout.py"}
    offenders = [
        hit
        for path in (ROOT / "tests").rglob("*.py")
        if path.name not in skip and "fake_telegram" not in path.parts
        for hit in _raw_callback_strings(path, buttons)
    ]
    assert offenders == []
