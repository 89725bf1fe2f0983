"""Docs stay generated from the code, and the inner layers stay free of frameworks."""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Any

import pytest

from consentry import docsgen

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "consentry"


@pytest.mark.parametrize("name", sorted(docsgen.GENERATED))
def test_the_generated_docs_are_up_to_date(name: str) -> None:
    on_disk = (ROOT / "docs" / name).read_text(encoding="utf-8")
    assert on_disk == docsgen.GENERATED[name](), f"docs/{name} is stale: run python -m consentry.docsgen"


def test_every_command_and_parameter_has_help_text() -> None:
    import typer

    from consentry.entrypoints.cli import app

    missing = []
    for path, cmd in docsgen._commands(typer.main.get_command(app), "consentry"):
        if not (cmd.help or "").strip():
            missing.append(path)
        missing.extend(f"{path} {p.name}" for p in cmd.params if p.param_type_name == "option" and not p.help)
    assert missing == []


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("layer", ["domain", "policy"])
def test_the_inner_layers_import_only_the_standard_library_and_each_other(layer: str) -> None:
    allowed_own = {"domain": ("consentry.domain",), "policy": ("consentry.domain", "consentry.policy")}[layer]
    offenders = []
    for path in sorted((SRC / layer).rglob("*.py")):
        for name in _imports(path):
            top = name.split(".")[0]
            if top == "__future__" or top in sys.stdlib_module_names or name.startswith(allowed_own):
                continue
            offenders.append(f"{path.relative_to(SRC)}: {name}")
    assert offenders == []


def test_every_setting_has_a_description_for_the_settings_table() -> None:
    from consentry.settings import Settings

    assert [
        name for name, field in Settings.model_fields.items() if not (field.description or "").strip()
    ] == []


def test_the_campaign_file_example_in_the_docs_is_accepted_and_uses_every_documented_key() -> None:
    import re
    import tomllib

    from consentry.services import campaigns

    text = (ROOT / "docs" / "campaigns.md").read_text(encoding="utf-8")
    example = campaigns.parse(tomllib.loads(re.findall(r"```toml\n(.*?)```", text, re.DOTALL)[0]))

    def keys(doc: dict[str, Any], prefix: str = "") -> set[str]:
        found = set()
        for name, value in doc.items():
            path = prefix + ("LANG" if prefix == "content." else name)
            if isinstance(value, dict) and path != "selection.attribute":
                found |= keys(value, path + ".")
            else:
                found.add(path)
        return found

    documented = set(re.findall(r"^\| `([A-Za-z_.]+)` \| (?!table \|)", text, re.MULTILINE))
    assert keys(example.to_json()) == documented


#: What no service imports: the database, the wiring, the entrypoints (services reach them through
#: the ports of services/ports.py, which adapters/sql/ implements and bootstrap.py wires).
SERVICES_NEVER = ("sqlalchemy", "consentry.bootstrap", "consentry.adapters.sql", "consentry.entrypoints")

#: The adapters services may import, each a thin wrapper of a library with nothing to fake.
SERVICES_MAY_USE = {
    "consentry.adapters.addresses": "normalising addresses and numbers (email-validator, phonenumbers)",
    "consentry.adapters.classify": "a number's line type for the domain's classification (phonenumbers)",
    "consentry.adapters.csvfile": "reading CSV files as people have them (encodings, dialects)",
    "consentry.adapters.spreadsheet": "writing CSV as Dutch Excel opens it (BOM, semicolons, no formulas)",
    "consentry.adapters.reports": "reading bounce and complaint reports (the email package)",
    "consentry.adapters.mime": "writing messages as bytes (the email package)",
    "consentry.adapters.transport": "the Transport protocol the sender's transports implement",
    "consentry.adapters.smtp_pipeline": "the campaign transport (SMTP) and DKIM, chosen by the settings",
    "consentry.adapters.webhook": "the campaign transport for SMS and messaging gateways",
    "consentry.adapters.signing": "Ed25519 keys and signatures of checkpoints (cryptography)",
    "consentry.adapters.mailer": "checkpoint mails, sent with the settings of the moment (smtplib)",
}


def _imports_resolved(path: Path) -> set[str]:
    """As `_imports`, with `from package import module` counted as the module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = _imports(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def test_services_import_no_database_no_wiring_and_only_the_declared_adapters() -> None:
    offenders = []
    for path in sorted((SRC / "services").rglob("*.py")):
        for name in _imports_resolved(path):
            undeclared = name.startswith("consentry.adapters.") and not name.startswith(
                tuple(SERVICES_MAY_USE)
            )
            if undeclared or name.startswith(SERVICES_NEVER):
                offenders.append(f"{path.relative_to(SRC)}: {name}")
    assert sorted(set(offenders)) == []


def _module_level_imports(path: Path, modules: set[str]) -> set[str]:
    """The consentry modules a module imports when it is loaded (not inside functions or TYPE_CHECKING)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found & modules


def test_no_module_imports_itself_through_others() -> None:
    paths = {".".join(p.relative_to(SRC.parent).with_suffix("").parts): p for p in SRC.rglob("*.py")}
    paths = {name.removesuffix(".__init__"): p for name, p in paths.items()}
    graph = {name: _module_level_imports(p, set(paths)) - {name} for name, p in paths.items()}
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, f"import cycle: {' -> '.join((*path, module))}"
        if module in done:
            return
        for dep in sorted(graph[module]):
            visit(dep, (*path, module))
        done.add(module)

    for module in sorted(graph):
        visit(module, ())
    assert len(done) > 100
