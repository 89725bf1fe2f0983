"""A purpose's JSON form is the one the CLI prints and the store keeps."""

from __future__ import annotations

import json

from consentry.domain.purposes import Purpose
from consentry.domain.vocabulary import PurposeKind


def test_a_purpose_as_json_has_its_names_kind_sorted_categories_and_third_party_flag() -> None:
    p = Purpose("koffie", "Koffie", "Coffee", PurposeKind.COMMERCIAL, frozenset({"thee", "koffie"}), True)
    doc = p.to_json()
    assert doc == {
        "key": "koffie",
        "name_nl": "Koffie",
        "name_en": "Coffee",
        "kind": "commercial",
        "categories": ["koffie", "thee"],
        "third_party": True,
    }
    assert json.loads(json.dumps(doc)) == doc
