"""Registers (/admin/registers) over HTTP on both stores: the list with kind, period, size and last
update; a new version uploaded by a privacy officer with its report (every rejection by line),
recorded in the audit log with counts and the register key only; refusals (no form token, a role
that may only read, a file that is too large, a bad key) that change nothing.

Texts are checked in English (?lang=en): the Dutch catalog gains them when the integrator
re-extracts it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from test_admin_app_pages import BASE, PASSWORD, log_in, token_of

from conftest import Inbox, make_app
from consentry.adapters.uploads import Uploads
from consentry.bootstrap import App
from consentry.domain import limits
from consentry.domain.users import AuditAction, Role
from consentry.entrypoints.accounts import accounts
from consentry.entrypoints.http import create_app
from consentry.services import registers, users

PAGE = "/admin/registers?lang=en"


@pytest.fixture
def site(store_url: str, smtp: tuple[Inbox, int], tmp_path: Path) -> Iterator[tuple[App, TestClient]]:
    app = make_app(store_url, base_url=BASE, smtp_port=smtp[1])
    for role in Role:
        users.create_user(accounts(app), f"{role.value}@example.nl", role, PASSWORD, actor=None)
    with TestClient(create_app(app), base_url=BASE) as client:
        client.app.state.admin_uploads = Uploads(tmp_path / "uploads")  # type: ignore[attr-defined]
        yield app, client
    app.store.engine.dispose()


def _upload(
    client: TestClient, data: bytes, fields: dict[str, str], name: str = "register.txt"
) -> httpx.Response:
    opened = client.get(PAGE)
    assert opened.status_code == 200, opened.text
    return client.post(
        PAGE,
        data={**fields, "csrf": token_of(opened)},
        files={"file": (name, data, "text/plain")},
        follow_redirects=False,
    )


def _audit(app: App) -> list[tuple[str | None, str | None, dict[str, object]]]:
    return [
        (e.actor, e.subject, e.detail)
        for e in reversed(users.audit_log(accounts(app)))
        if e.action is AuditAction.REGISTER_IMPORTED
    ]


def test_a_privacy_officer_uploads_a_register_and_sees_every_rejection_by_line(
    site: tuple[App, TestClient],
) -> None:
    app, client = site
    log_in(client, Role.PRIVACY_OFFICER)
    empty = client.get(PAGE)
    assert empty.status_code == 200 and "No register has been imported yet." in empty.text
    assert 'href="/admin/registers' in empty.text  # in the menu

    sent = _upload(
        client,
        b"0612345678\n\n+31 6 1234 5678\nniet-een-nummer\n0687654321\n0201234567\x07\n",
        {"register": "bel-me-niet", "valid_from": "2009-01-01"},
    )
    assert sent.status_code == 200, sent.text
    text = sent.text
    assert "Register bel-me-niet imported" in text
    assert "5 entries read: 2 new, 1 already listed, 2 rejected." in text
    rows = re.findall(r'<tr><td class="number">(\d+)</td><td>([^<]*)</td>', text)
    assert rows == [("4", "Entry"), ("6", "Entry")]
    # The list: the preset's name, kind and end, the period, the count, the update in Amsterdam time.
    assert "Bel-me-niet Register" in text and "<code>bel-me-niet</code>" in text
    assert "1 Jan 2009" in text and "30 Jun 2021" in text and "(no longer applies)" in text
    assert re.search(r'<td class="number">2</td>', text)
    assert re.search(r"\d{2}:\d{2} CES?T", text)
    (reg,) = registers.list_all(app)
    assert (reg["key"], reg["entries"], reg["hashed"]) == ("bel-me-niet", 2, False)

    # Recorded with the acting user, the counts and the key; no entry, no file name.
    ((actor, subject, detail),) = _audit(app)
    assert (actor, subject) == (f"{Role.PRIVACY_OFFICER.value}@example.nl", "bel-me-niet")
    assert detail == {"entries": 5, "new": 2, "already": 1, "rejected": 2}
    assert "612345678" not in repr(detail) and "register.txt" not in repr(detail)
    # The file is not kept on the server's disk.
    assert not list(client.app.state.admin_uploads.root.glob("*"))  # type: ignore[attr-defined]


def test_a_hashed_csv_register_with_its_own_name_and_kind_and_the_dutch_page(
    site: tuple[App, TestClient],
) -> None:
    app, client = site
    log_in(client, Role.BEHEERDER)
    digest = hashlib.sha256(b"Dorpsstraat 1\n1234 AB Dorp").hexdigest()
    sent = _upload(
        client,
        f"hash;bron\n{digest};pf\nkapot;pf\n".encode(),
        {
            "register": "eigen-lijst",
            "name": "Eigen lijst",
            "kind": "postal",
            "hashed": "yes",
            "column": "hash",
        },
        "lijst.csv",
    )
    assert sent.status_code == 200, sent.text
    assert "2 entries read: 1 new, 0 already listed, 1 rejected." in sent.text
    assert "Hashed (SHA-256)" in sent.text and "Eigen lijst" in sent.text
    (reg,) = registers.list_all(app)
    assert (reg["kind"], reg["hashed"], reg["entries"]) == ("postal", True, 1)
    dutch = client.get("/admin/registers?lang=nl")
    assert dutch.status_code == 200 and 'lang="nl"' in dutch.text and "Eigen lijst" in dutch.text


def test_refusals_change_nothing(site: tuple[App, TestClient]) -> None:
    app, client = site
    log_in(client, Role.PRIVACY_OFFICER)
    # No form token: refused, nothing imported.
    refused = client.post(
        PAGE, data={"register": "postfilter"}, files={"file": ("r.txt", b"x\n", "text/plain")}
    )
    assert refused.status_code in (400, 403)
    # A bad key, an unknown key without a kind, a bad date, an empty file: said, nothing saved.
    bad = _upload(client, b"0612345678\n", {"register": "Niet Goed"})
    assert bad.status_code == 422 and "Nothing was saved" in bad.text and "Register key" in bad.text
    assert 'value="Niet Goed"' in bad.text
    unknown = _upload(client, b"0612345678\n", {"register": "eigen"})
    assert unknown.status_code == 422 and "What it lists" in unknown.text
    late = _upload(client, b"0612345678\n", {"register": "postfilter", "valid_from": "1-1-2020"})
    assert late.status_code == 422 and "Valid from" in late.text
    empty = _upload(client, b"", {"register": "postfilter"})
    assert empty.status_code == 422 and "Choose a file that is not empty." in empty.text
    too_large = client.post(
        PAGE,
        data={"register": "postfilter", "csrf": token_of(client.get(PAGE))},
        files={"file": ("r.txt", b"0" * (limits.REGISTER_UPLOAD_BYTES + 1), "text/plain")},
    )
    assert too_large.status_code == 413
    assert registers.list_all(app) == [] and _audit(app) == []
    assert not list(client.app.state.admin_uploads.root.glob("*"))  # type: ignore[attr-defined]


@pytest.mark.parametrize("role", [Role.MARKETEER, Role.READ_ONLY])
def test_a_marketer_and_a_read_only_user_read_the_list_but_cannot_upload(
    site: tuple[App, TestClient], role: Role
) -> None:
    app, client = site
    log_in(client, Role.PRIVACY_OFFICER)
    assert _upload(client, b"0612345678\n", {"register": "bel-me-niet"}).status_code == 200
    client.cookies.clear()
    log_in(client, role)
    page = client.get(PAGE)
    assert page.status_code == 200 and "Bel-me-niet Register" in page.text
    assert "Upload a new version" not in page.text and 'type="file"' not in page.text
    refused = client.post(
        PAGE,
        data={"register": "bel-me-niet", "csrf": token_of(page)},
        files={"file": ("r.txt", b"0687654321\n", "text/plain")},
    )
    assert refused.status_code == 403
    assert registers.list_all(app)[0]["entries"] == 1 and len(_audit(app)) == 1
