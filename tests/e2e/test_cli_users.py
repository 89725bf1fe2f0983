"""`consentry user`: the first beheerder made from the command line, listed and disabled."""

from __future__ import annotations

from typer.testing import CliRunner

from consentry.entrypoints.cli import app

runner = CliRunner()
PASSWORD = "correct horse battery staple"


def cli(db: str, *args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--database-url", db, *args], input=input)
    return result.exit_code, result.stdout, result.stderr


def test_the_first_beheerder_is_created_with_a_prompted_password_then_listed_and_disabled(
    sqlite_url: str,
) -> None:
    assert cli(sqlite_url, "init")[0] == 0
    code, out, err = cli(
        sqlite_url,
        "user",
        "create",
        "Anna@Example.nl",
        "--role",
        "beheerder",
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert code == 0, err
    assert "created anna@example.nl (beheerder)" in out and PASSWORD not in out
    code, out, _ = cli(sqlite_url, "user", "list")
    assert code == 0 and out.split() == ["anna@example.nl", "beheerder", "-", "active"]
    code, out, _ = cli(sqlite_url, "user", "disable", "anna@example.nl")
    assert code == 0 and "disabled anna@example.nl" in out
    assert "disabled" in cli(sqlite_url, "user", "list")[1]


def test_a_password_from_stdin_a_taken_address_a_short_password_and_a_bad_role_are_handled(
    sqlite_url: str,
) -> None:
    assert cli(sqlite_url, "init")[0] == 0
    create = ("user", "create", "bob@example.nl", "--role", "marketeer", "--password-stdin")
    assert cli(sqlite_url, *create, input=f"{PASSWORD}\n")[0] == 0
    code, _, err = cli(sqlite_url, *create, input=f"{PASSWORD}\n")
    assert code == 2 and "exists already" in err
    code, _, err = cli(
        sqlite_url,
        "user",
        "create",
        "eve@example.nl",
        "--role",
        "marketeer",
        "--password-stdin",
        input="short\n",
    )
    assert code == 2 and "12 characters" in err
    code, _, err = cli(
        sqlite_url,
        "user",
        "create",
        "eve@example.nl",
        "--role",
        "admin",
        "--password-stdin",
        input=f"{PASSWORD}\n",
    )
    assert code == 2 and "admin" in err
    code, _, err = cli(sqlite_url, "user", "disable", "nobody@example.nl")
    assert code == 2 and "no user" in err
