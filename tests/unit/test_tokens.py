"""Tokens keep their format while the signer reuses its serializers."""

from __future__ import annotations

import pytest
from itsdangerous import URLSafeSerializer

from consentry.adapters.tokens import TokenInvalid, TokenSigner, TokenUse

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
