"""A message after DATA has every line that starts with a dot given a second one, and ends in CRLF."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from consentry.adapters.smtp_pipeline import dot_stuffed

BITS = st.sampled_from([b".", b"..", b"\r\n", b"\n", b"\r", b"a", b"=2E", b" ", b"\r\n.\r\n"])


def _by_lines(data: bytes) -> bytes:
    """RFC 5321 4.5.2 read literally: each line, split at LF, gets a dot in front when it starts with one."""
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return b"\n".join(b"." + line if line.startswith(b".") else line for line in data.split(b"\n"))


@given(st.lists(BITS | st.binary(max_size=6), max_size=30).map(b"".join))
def test_every_line_starting_with_a_dot_gets_another_and_nothing_else_changes(data: bytes) -> None:
    assert dot_stuffed(data) == _by_lines(data)


def test_a_message_that_is_a_lone_dot_is_not_taken_for_its_end() -> None:
    assert dot_stuffed(b".") == b"..\r\n"
    assert dot_stuffed(b"a\r\n.\r\nb") == b"a\r\n..\r\nb\r\n"
