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
