"""The words a name is searched by (`factrows.words`): case folded, accents stripped, each once."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from consentry.policy.factrows import words


def reference(text: str) -> list[str]:
    """Every name through NFKD, as `words` did before ASCII names skipped it."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return list(dict.fromkeys(re.findall(r"\w+", plain)))


NAMES = st.text(st.sampled_from("Jan de Vries-'.ÉéÖøßİıﬁKÅ\u0301\u00a0 \tabcXYZ019_"), max_size=30)


@settings(max_examples=500, deadline=None)
@given(NAMES | st.text(max_size=20))
def test_words_are_the_nfkd_words_of_every_name(name: str) -> None:
    assert words(name) == reference(name)


def test_names_that_case_fold_to_ascii_and_names_with_accents() -> None:
    assert words("Zoë de Vries") == ["zoe", "de", "vries"]
    assert words("STRAßE ﬁona \u212a") == ["strasse", "fiona", "k"]  # folded to ASCII
    assert words("Jan  JAN jan") == ["jan"]
