"""Property-based API tests: schemathesis generates requests from the app's own OpenAPI schema.

Every operation under /v1 gets generated inputs, valid and invalid, sent in-process (ASGI) with
an admin key, on SQLite. Each answer must not be a server error and must conform to the
schema: its status is documented, its body matches the documented model, its content type
is the documented one; schema-violating input is refused, and schema-valid input is refused
only for what no schema can say (see BEYOND_SCHEMA). 405 answers and their Allow header are
tested in test_bounded_inputs. The number of examples is small by default so the suite stays
short; CONSENTRY_SCHEMATHESIS_EXAMPLES sets it for a deep run (README, "Test").
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from conftest import define_purposes, make_app
from consentry.bootstrap import bootstrap
from consentry.entrypoints.http import create_app
from consentry.services import apikeys, forms, ledger
from consentry.settings import Settings

#: Examples per operation and mode: 25 in every run (100 made this file half of the suite's SQLite
#: time); a deep run asks for more, e.g. CONSENTRY_SCHEMATHESIS_EXAMPLES=1000.
EXAMPLES = int(os.environ.get("CONSENTRY_SCHEMATHESIS_EXAMPLES", "25"))
#: The default run draws the same examples every time, so CI passes or fails on the code,
#: not on the draw; a deep run (the variable set) explores afresh each time.
DERANDOMIZE = "CONSENTRY_SCHEMATHESIS_EXAMPLES" not in os.environ


@pytest.fixture(scope="module")
def wired(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    """The ASGI app on a SQLite file with purposes, a form, a contact point and an admin key."""
    path: Path = tmp_path_factory.mktemp("schemathesis") / "consentry.db"
    app = make_app(f"sqlite:///{path}")
    define_purposes(app)
    forms.save(
        app,
        {
            "key": "nieuwsbrief-footer",
            "title_nl": "Blijf op de hoogte",
            "title_en": "Stay informed",
            "items": [{"purpose": "nieuwsbrief", "text_nl": "Ja.", "text_en": "Yes."}],
        },
    )
    ledger.register_point(app, {"kind": "email", "value": "jan@example.nl", "source": "web_form"})
    _, token = apikeys.create(app, "schemathesis", ["admin"])
    yield create_app(app), token
    app.store.engine.dispose()


def _operations() -> list[tuple[str, str, GenerationMode]]:
    """Every /v1 operation with each generation mode, read from the schema of an app that never connects.

    Invalid data is generated only for operations that take some input.
    """
    dry = create_app(bootstrap(Settings(database_url="sqlite://", secret_key="x" * 32)))
    found = []
    for path, item in dry.openapi()["paths"].items():
        for method, op in item.items():
            if path.startswith("/v1/"):
                found.append((method.upper(), path, GenerationMode.POSITIVE))
                if op.get("parameters") or op.get("requestBody"):
                    found.append((method.upper(), path, GenerationMode.NEGATIVE))
    return found


#: The error kinds of the service's own rules, which no JSON Schema expresses: whether the
#: contact point is registered (or was, and is erased: 410 Gone), the purpose defined, the
#: address an e-mail address or a Dutch phone number, the date a real one.
BEYOND_SCHEMA = frozenset({"invalid", "not_found", "conflict", "gone"})
#: What the schema does say (NO_NUL patterns, maxLength from consentry.domain.limits): a
#: schema-valid request refused for one of these means the schema is wrong.
SAID_BY_SCHEMA = ("NUL", "longer than the limit")


def schema_valid_input_is_refused_only_for_what_no_schema_says(ctx: Any, response: Any, case: Any) -> None:
    """positive_data_acceptance, allowing a 422 (or the 410 of an erased address) only for the
    service's own rules: never for a pydantic error (the model and the schema disagree), a NUL
    or a size limit."""
    try:
        positive_data_acceptance(ctx, response, case)
    except Exception:
        if response.status_code not in (410, 422):
            raise
        items = response.json()["detail"]
        said = [
            i for i in items if i["type"] not in BEYOND_SCHEMA or any(s in i["msg"] for s in SAID_BY_SCHEMA)
        ]
        if said:
            raise


@pytest.fixture(scope="module")
def api_schema(wired: tuple[Any, str]) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", wired[0])


@pytest.mark.parametrize(("method", "path", "mode"), _operations(), ids=lambda v: str(v))
def test_no_generated_request_gets_a_server_error_or_an_answer_off_the_schema(
    api_schema: Any, wired: tuple[Any, str], method: str, path: str, mode: GenerationMode
) -> None:
    headers = {"Authorization": f"Bearer {wired[1]}"}

    @given(case=api_schema[path][method].as_strategy(mode))
    @settings(
        max_examples=EXAMPLES,
        derandomize=DERANDOMIZE,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case: Any) -> None:
        # positive_data_acceptance runs in the form below: every other check runs as it is.
        case.call_and_validate(
            headers=headers,
            excluded_checks=[positive_data_acceptance],
            additional_checks=[schema_valid_input_is_refused_only_for_what_no_schema_says],
        )

    call()
