"""Tokens keep their format while the signer reuses its serializers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer

from consentry.adapters.tokens import TokenExpired, TokenInvalid, TokenSigner, TokenUse

SECRET = "unit-test-secret-key-0123456789"


def test_a_link_token_is_the_one_a_fresh_serializer_makes() -> None:
    signer = TokenSigner(SECRET)
    fresh = URLSafeSerializer(SECRET, salt="consentry.unsubscribe")
    body = {"c": "cp_1", "p": "nieuwsbrief", "x": {"campaign": "herfst"}}
    assert signer.make(TokenUse.UNSUBSCRIBE, "cp_1", "nieuwsbrief", campaign="herfst") == fresh.dumps(body)


def test_tokens_for_two_people_differ_and_each_reads_back_as_its_own() -> None:
    signer = TokenSigner(SECRET)
    a = signer.make(TokenUse.PREFERENCES, "cp_a")
    b = signer.make(TokenUse.PREFERENCES, "cp_b")
    assert a != b
    assert signer.read(TokenUse.PREFERENCES, a).contact_point == "cp_a"
    assert signer.read(TokenUse.PREFERENCES, b).contact_point == "cp_b"


def test_a_token_made_for_one_use_is_refused_for_another() -> None:
    signer = TokenSigner(SECRET)
    token = signer.make(TokenUse.PREFERENCES, "cp_a")
    with pytest.raises(TokenInvalid):
        signer.read(TokenUse.UNSUBSCRIBE, token)


@pytest.mark.parametrize("use", [TokenUse.UNSUBSCRIBE, TokenUse.PREFERENCES])
@pytest.mark.parametrize(
    "point, purpose, extra",
    [
        ("cp_1", None, {}),
        ("cp_2", "nieuwsbrief", {"campaign": "herfst"}),
        ("cp_019a2b3c4d5e6f7a8b9c0d1e2f3a", "nieuwsbrief", {"campaign": "najaar-2026"}),
        ("cp_4", "café", {"campaign": "zomer"}),
    ],
)
def test_plain_tokens_are_byte_for_byte_what_itsdangerous_makes(
    use: TokenUse, point: str, purpose: str | None, extra: dict[str, str]
) -> None:
    signer = TokenSigner(SECRET)
    fresh = URLSafeSerializer(SECRET, salt=f"consentry.{use.value}")
    body = {"c": point, "p": purpose, **({"x": extra} if extra else {})}
    token = signer.make(use, point, purpose, **extra)
    assert token == fresh.dumps(body)
    assert signer.read(use, token).contact_point == point


def test_a_payload_zlib_would_shorten_is_signed_uncompressed_and_both_forms_read_back() -> None:
    signer = TokenSigner(SECRET)
    fresh = URLSafeSerializer(SECRET, salt="consentry.unsubscribe")
    body = {"c": "cp_3", "p": "nieuwsbrief-" * 3, "x": {"campaign": "nieuwsbrief" * 8}}
    compressed = fresh.dumps(body)
    assert compressed.startswith(".")  # itsdangerous compresses this one
    token = signer.make(TokenUse.UNSUBSCRIBE, "cp_3", body["p"], campaign=body["x"]["campaign"])
    assert not token.startswith(".")
    assert fresh.loads(token) == body
    assert signer.read(TokenUse.UNSUBSCRIBE, compressed).purpose == body["p"]  # links already sent


def test_a_timed_token_reads_back_and_is_refused_when_too_old() -> None:
    signer = TokenSigner(SECRET)
    token = signer.make(TokenUse.CONFIRM, "cp_a", "nieuwsbrief")
    assert signer.read(TokenUse.CONFIRM, token, max_age_s=60).purpose == "nieuwsbrief"
    with pytest.raises(TokenExpired):
        signer.read(TokenUse.CONFIRM, token, max_age_s=-1)


@settings(max_examples=300, deadline=None)
@given(
    point=st.text(min_size=1, max_size=40),
    purpose=st.none() | st.text(max_size=60),
    extra=st.dictionaries(st.sampled_from(["campaign", "k"]), st.text(max_size=80), max_size=2),
)
def test_any_link_token_reads_in_itsdangerous_and_theirs_read_here(
    point: str, purpose: str | None, extra: dict[str, str]
) -> None:
    signer = TokenSigner(SECRET)
    fresh = URLSafeSerializer(SECRET, salt="consentry.unsubscribe")
    body = {"c": point, "p": purpose, **({"x": extra} if extra else {})}
    token = signer.make(TokenUse.UNSUBSCRIBE, point, purpose, **extra)
    theirs = fresh.dumps(body)
    if not theirs.startswith("."):  # unless zlib shortened it (never a real link): the same bytes
        assert token == theirs
    assert fresh.loads(token) == body
    claims = signer.read(TokenUse.UNSUBSCRIBE, fresh.dumps(body))
    assert (claims.contact_point, claims.purpose, claims.extra) == (point, purpose, extra)


def test_a_timed_token_made_by_itsdangerous_itself_reads_back() -> None:
    signer = TokenSigner(SECRET)
    token = URLSafeTimedSerializer(SECRET, salt="consentry.confirm").dumps({"c": "cp_a", "p": "nieuwsbrief"})
    assert signer.read(TokenUse.CONFIRM, token, max_age_s=60).purpose == "nieuwsbrief"
