"""README's tour runs as written: every command, in order, on a fresh demo database.

The commands are read from the bash blocks of the tour's sections (from "## A short tour"
to the next second-level heading), so the README cannot drift from what the CLI does.
They run in a temporary directory holding a copy of docs/examples/, as a user would run
them from the repository's root after `consentry demo`, with a real SMTP server (aiosmtpd)
behind `CONSENTRY_SMTP_*`. Only the lines in SKIPPED do not run, each for its reason.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import Inbox
from consentry.entrypoints.cli import app

ROOT = Path(__file__).resolve().parents[2]
TOUR_START = "## A short tour"

#: Lines of the tour that are not run, by their first words, with why.
SKIPPED = {
    "source .venv/bin/activate": "a shell setting, not a command: the test calls the CLI itself",
    "consentry serve": "starts a server that runs until it is stopped",
}


@dataclass(frozen=True, slots=True)
class Step:
    """One command of the tour: its arguments after `consentry`, and what is piped into it."""

    line: str
    args: list[str]
    stdin: str | None


def tour_lines(readme: str) -> list[str]:
    """The shell lines of the tour's bash blocks, continuation lines joined, in order."""
    start = readme.index(TOUR_START)
    following = re.search(r"^## ", readme[start + len(TOUR_START) :], re.MULTILINE)
    section = readme[start : start + len(TOUR_START) + following.start()] if following else readme[start:]
    lines: list[str] = []
    for block in re.findall(r"^```bash\n(.*?)^```", section, re.MULTILINE | re.DOTALL):
        joined = re.sub(r"\\\n\s*", " ", block)
        lines.extend(line.strip() for line in joined.splitlines() if line.strip())
    return [line for line in lines if not line.startswith("#")]


def step(line: str) -> Step:
    """A tour line as a CLI call; only `consentry ...` and `echo '...' | consentry ...` are understood."""
    words = shlex.split(line, comments=True)
    stdin = None
    if "|" in words:
        bar = words.index("|")
        piped, words = words[:bar], words[bar + 1 :]
        if piped[:1] != ["echo"] or len(piped) != 2:
            raise AssertionError(f"the tour pipes something other than `echo '...'` into a command: {line}")
        stdin = piped[1] + "\n"
    if words[:1] != ["consentry"]:
        raise AssertionError(f"the tour has a line this test cannot run (add it to SKIPPED?): {line}")
    return Step(line, words[1:], stdin)


def skipped_by(line: str, rule: str) -> bool:
    """Whether a tour line is the exception `rule` (its first words)."""
    return line == rule or line.startswith(rule + " ")


def skipped(line: str) -> bool:
    """Whether a tour line is one of the listed exceptions."""
    return any(skipped_by(line, rule) for rule in SKIPPED)


def test_the_tour_is_read_from_every_section_up_to_the_next_chapter() -> None:
    lines = tour_lines((ROOT / "README.md").read_text(encoding="utf-8"))
    assert lines[0] == "source .venv/bin/activate"
    assert any(line.startswith("consentry campaign send") for line in lines)
    assert any(line.startswith("consentry serve") for line in lines)
    assert not any(line.startswith(("consentry init", "python", ".venv/bin")) for line in lines)
    # Every exception still matches a line: none is left over from an older tour.
    assert {s for s in SKIPPED if any(skipped_by(line, s) for line in lines)} == set(SKIPPED)


def test_every_command_of_the_tour_succeeds_in_order_on_a_fresh_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: tuple[Inbox, int]
) -> None:
    shutil.copytree(ROOT / "docs" / "examples", tmp_path / "docs" / "examples")
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):  # the tour runs on the defaults, as a new user's does
        if name.startswith("CONSENTRY_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CONSENTRY_SMTP_PORT", str(smtp[1]))
    runner = CliRunner()

    demo = runner.invoke(app, ["demo"])
    assert demo.exit_code == 0, demo.output

    ran = []
    for line in tour_lines((ROOT / "README.md").read_text(encoding="utf-8")):
        if skipped(line):
            continue
        if line.startswith("export "):  # settings for the lines after it, as in the shell
            for assignment in shlex.split(line)[1:]:
                name, _, value = assignment.partition("=")
                monkeypatch.setenv(name, value)
            ran.append(line)
            continue
        s = step(line)
        result = runner.invoke(app, s.args, input=s.stdin)
        assert result.exit_code == 0, f"`{line}` exited {result.exit_code}:\n{result.output}{result.stderr}"
        ran.append(line)

    assert len(ran) >= 20
    assert (tmp_path / "consentry.db").is_file() and (tmp_path / "bellijst.csv").is_file()
    assert smtp[0].messages, "the tour's campaign sent nothing to the SMTP server"
