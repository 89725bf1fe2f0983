"""The audience projection's rows: each fact the rules ask about one contact point, ready for SQL.

The store writes one narrow `point_facts` row per contact point with every state it
projects (`facts_row`), plus the point's register listings (`listing_rows`) and the
objections that reach the rest of its person (`objection_rows`). What the rules ask per
purpose and channel ("a valid consent for nieuwsbrief by e-mail") is a set of tokens
(`nieuwsbrief/email`), kept as an integer bit mask: each column numbers its own tokens
(`Numbering`, stored in `fact_bits`), so that `consentry.policy.sqlfacts` tests a fact with
one integer comparison on the row itself, `(c_valid & 4) <> 0`.

A mask has `Numbering.BITS` bits (63: a signed 64-bit integer in both databases). A column
that has numbered more tokens than that keeps the rest as `|<column>.<number>|` tokens in the
row's `more` column, tested by substring search: every answer stays right, only such tokens
cost a search (a shop would need more than 63 purpose/channel pairs, categories or registers).
Tags, the end days of consents given for a time (`c_timed`) and the selection terms stay
token strings: they are open-ended, and only a selection or a timed consent reads them.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Collection, Iterable
from datetime import date
from typing import Any

from consentry.domain.erasure import lifting_pairs
from consentry.domain.state import ContactState
from consentry.domain.vocabulary import (
    EEA_COUNTRIES,
    Channel,
    ConsentMethod,
    ObjectionScope,
    PartyKind,
    PointKind,
    Source,
)
from consentry.policy.facts import (
    LEGAL_TZ,
)

#: Any purpose or any channel, in opt-out tokens.
ANY = "*"
EMPTY = "|"
_WORD = re.compile(r"\w+")


def tok(text: str) -> str:
    """One token part, with the separators escaped so no value can forge a token."""
    if "%" not in text and "|" not in text and "/" not in text and "=" not in text:
        return text
    return text.replace("%", "%25").replace("|", "%7C").replace("/", "%2F").replace("=", "%3D")


def tokens(items: Iterable[str]) -> str:
    """`|a|b|`: a set of tokens as one string (`|` when empty)."""
    found = sorted(set(items))
    return f"|{'|'.join(found)}|" if found else EMPTY


def _tokens(items: Collection[str]) -> str:
    """`tokens` for a collection: the empty one (most of a fresh point's) costs no sort."""
    return tokens(items) if items else EMPTY


def pair(purpose: str, channel: str) -> str:
    """The token for a purpose and a channel."""
    return f"{tok(purpose)}/{tok(channel)}"


def value_hash(value: str) -> str:
    """How hashed registers list a value (SHA-256, hex); see `adapters.sql.registers.entry_hash`.

    `point_facts.value_hash` keeps the same digest as its 32 bytes; the SQL compares it as hex.
    """
    return hashlib.sha256(value.encode()).hexdigest()


#: The columns kept as bit masks (`Numbering`): each numbers its own tokens.
MASKS = (
    "c_valid", "c_own", "c_pending", "c_defective", "subscribed", "opt_outs", "bought", "bought_ex",
    "listed", "suppressed_for", "c_fresh",
)  # fmt: skip


def overflow_token(column: str, number: int) -> str:
    """How a token numbered beyond a mask's bits is kept in `more`: `<column>.<number>`."""
    return f"{column}.{number}"


class Numbering:
    """The bit of each token of each mask column (`fact_bits`): numbered on first sight, never reused.

    A writer numbers the tokens it meets (`added` says which are new, to be stored in the same
    transaction); a reader asks `find`, and a token never numbered is held by no row.
    """

    #: Bits of a mask: 0-62 (a signed 64-bit integer in both databases).
    BITS = 63

    def __init__(self, known: Iterable[tuple[str, str, int]] = ()) -> None:
        self.known: dict[tuple[str, str], int] = {}
        self.names: dict[tuple[str, int], str] = {}
        self.next: dict[str, int] = {}
        self.added: list[tuple[str, str, int]] = []
        self.bits = self.BITS
        #: `mask` of the token lists met so far: a token keeps its number, so their mask and
        #: overflow tokens stay what they were (a projection meets the same few lists again and again).
        self._masks: dict[tuple[str, tuple[str, ...]], tuple[int, tuple[str, ...]]] = {}
        for column, token, number in known:
            self._put(column, token, number)

    def _put(self, column: str, token: str, number: int) -> None:
        self.known[(column, token)] = number
        self.names[(column, number)] = token
        self.next[column] = max(self.next.get(column, 0), number + 1)

    def find(self, column: str, token: str) -> int | None:
        """The token's number in the column, or None when no row ever held it."""
        return self.known.get((column, token))

    def number(self, column: str, token: str) -> int:
        """The token's number in the column, numbering it when new."""
        found = self.known.get((column, token))
        if found is None:
            found = self.next.get(column, 0)
            self._put(column, token, found)
            self.added.append((column, token, found))
        return found

    def mask(self, column: str, tokens: Collection[str], more: list[str]) -> int:
        """The tokens as the column's mask; those beyond its bits added to `more`."""
        key = (column, tuple(tokens))
        found = self._masks.get(key)
        if found is None:
            out = 0
            over: list[str] = []
            for token in sorted(set(tokens)):
                n = self.number(column, token)
                if n < self.bits:
                    out |= 1 << n
                else:
                    over.append(overflow_token(column, n))
            found = self._masks[key] = (out, tuple(over))
        if found[1]:
            more.extend(found[1])
        return found[0]

    def tokens(self, column: str, mask: int, more: str) -> set[str]:
        """The tokens a row's mask (and its `more` tokens) hold in the column."""
        found = {self.names[(column, n)] for n in range(min(self.bits, mask.bit_length())) if mask >> n & 1}
        prefix = f"{column}."
        for part in token_list(more):
            if part.startswith(prefix):
                found.add(self.names[(column, int(part[len(prefix) :]))])
        return found


def token_list(tokens: str) -> list[str]:
    """The tokens of a token string (`tokens`): `|a|b|` as `[a, b]`."""
    return [] if tokens == EMPTY else tokens.strip("|").split("|")


#: The columns of `point_facts` that `facts_row` gives, in its order: every clear fact. The
#: store adds the point's contact, its blind index, its sealed value and name and its head
#: (see `consentry.adapters.sql.projection`); no column here holds personal data.
COLUMNS = (
    "contact_point_id", "kind", "value_hash", "party", "source",
    "erased", "objected_dm", "objected_profiling", "suppressed", "published", "published_unproven",
    "outside_eea", "local_rules_met", "notice14", "bought_any", "consented_ever", "ended_day",
    "c_valid", "c_own", "c_pending", "c_defective", "subscribed", "opt_outs", "bought", "bought_ex",
    "tags", "listed", "c_timed", "suppressed_for", "c_fresh", "restricted", "more",
)  # fmt: skip
#: Columns holding dates (stored form differs per database).
DATE_COLUMNS = (COLUMNS.index("ended_day"),)


_DIRECT_MARKETING = ObjectionScope.DIRECT_MARKETING.value
_PROFILING = ObjectionScope.PROFILING.value
#: The stored text of each kind, party, source and channel (a dictionary look-up costs a
#: fraction of an enum member's `.value`; `facts_row` asks five a point).
_TEXT: dict[PointKind | PartyKind | Source | Channel, str] = {
    m: m.value for e in (PointKind, PartyKind, Source, Channel) for m in e
}


def facts_row(s: ContactState, bits: Numbering) -> tuple[Any, ...]:
    """The `point_facts` row of a folded state: each fact the rules ask, ready to test in SQL.

    Token sets are masks numbered by `bits` (which numbers the tokens it has not met yet).
    """
    valid, own, pending, defective, subscribed = [], [], [], [], []
    until: dict[str, date] = {}
    for c in s.consents:
        if c.withdrawn_at is not None:
            continue
        subscribed.append(tok(c.purpose))
        expires = c.expires_on
        for ch in c.channels:
            t = pair(c.purpose, _TEXT[ch])
            if c.defects:
                defective.append(t)
            elif c.pending:
                pending.append(t)
            elif expires is not None:
                # Valid until a day: the latest such day per pair (any, and collected by the sender).
                _later(until, f"{t}=a=", expires)
                if c.method is not ConsentMethod.IMPORT:
                    _later(until, f"{t}=o=", expires)
            else:
                valid.append(t)
                if c.method is not ConsentMethod.IMPORT:
                    own.append(t)
    outs: list[str] = []
    for o in s.opt_outs:
        who = o.purpose or ANY
        outs.extend([pair(who, ANY)] if o.channels is None else [pair(who, ch.value) for ch in o.channels])
    # (Most points have no purchases or listings: no comprehension is run for them.)
    bought = [tok(cat) for p in s.purchases for cat in p.categories] if s.purchases else []
    bought_ex = (
        [tok(cat) for p in s.purchases if p.collected_by_sender and p.opt_out_offered for cat in p.categories]
        if s.purchases
        else []
    )
    ended = s.relationship_end
    more: list[str] = []  # tokens beyond a mask's bits, filled by the masks below, in order
    mask = bits.mask
    covers, lifts = _prior(s)
    listed = [tok(li.register) for li in s.listings] if s.listings else []
    return (
        s.id,
        _TEXT[s.kind],
        hashlib.sha256(s.value.encode()).digest(),
        _TEXT[s.party],
        _TEXT[s.source],
        s.erased_at is not None,
        _DIRECT_MARKETING in s.objections,
        _PROFILING in s.objections,
        s.hard_bounced_at is not None or s.complained_at is not None,
        s.published_for_offers and bool(s.published_for_offers_evidence),
        s.published_for_offers and not s.published_for_offers_evidence,
        s.country is not None and s.country not in EEA_COUNTRIES,
        bool(s.local_rules_met),
        "14" in s.notices,
        bool(s.purchases),
        bool(s.consents),
        ended.astimezone(LEGAL_TZ).date() if ended is not None else None,
        mask("c_valid", valid, more) if valid else 0,
        mask("c_own", own, more) if own else 0,
        mask("c_pending", pending, more) if pending else 0,
        mask("c_defective", defective, more) if defective else 0,
        mask("subscribed", subscribed, more) if subscribed else 0,
        mask("opt_outs", outs, more) if outs else 0,
        mask("bought", bought, more) if bought else 0,
        mask("bought_ex", bought_ex, more) if bought_ex else 0,
        tokens(tok(t) for t in s.tags) if s.tags else EMPTY,
        mask("listed", listed, more) if listed else 0,
        _tokens([f"{k}{d.isoformat()}" for k, d in until.items()]),
        mask("suppressed_for", covers, more) if covers else 0,
        mask("c_fresh", lifts, more) if lifts else 0,
        s.restricted_at is not None,
        _tokens(more),  # last: after every mask above has added its own
    )


def _prior(s: ContactState) -> tuple[list[str], list[str]]:
    """A prior suppression's token sets (its moment the store keeps beside them): the channels
    it covers (`*`: all), and the purpose/channel pairs a fresh confirmed opt-in lifts it for."""
    prior = s.prior_suppression
    if prior is None:
        return [], []
    covers = [ANY] if prior.channels is None else [tok(c) for c in prior.channels]
    return covers, [pair(p, c) for p, c in lifting_pairs(s)]


def _later(until: dict[str, date], key: str, day: date) -> None:
    if key not in until or until[key] < day:
        until[key] = day


_ID, _OBJ_DM, _OBJ_PROF = (
    COLUMNS.index(c) for c in ("contact_point_id", "objected_dm", "objected_profiling")
)


def objection_rows(facts: tuple[Any, ...], contact: str | None) -> list[tuple[str, str, str]]:
    """The `contact_objections` rows of a `point_facts` row: its objections, under its contact
    (as the store names it).

    A point without a contact is its own person: its own flags say all, so it has none.
    """
    if contact is None or not (facts[_OBJ_DM] or facts[_OBJ_PROF]):
        return []
    rows = []
    if facts[_OBJ_DM]:
        rows.append((facts[_ID], contact, _DIRECT_MARKETING))
    if facts[_OBJ_PROF]:
        rows.append((facts[_ID], contact, _PROFILING))
    return rows


def words(text: str) -> list[str]:
    """The words of a name as a search finds them: case folded, accents stripped, each once."""
    plain = text.casefold()
    if not plain.isascii():  # ASCII has no accents to strip (NFKD leaves it as it is)
        plain = unicodedata.normalize("NFKD", plain)
        plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return list(dict.fromkeys(_WORD.findall(plain)))


def terms(s: ContactState) -> list[str]:
    """What the admin app searches a point by, before it is blinded (`point_terms`).

    `name:<word>` for each word of the display name, `tag:<tag>` for each tag.
    """
    found = [f"name:{w}" for w in words(s.display_name)] if s.display_name else []
    found.extend(tag_term(x) for x in sorted(s.tags))
    return list(dict.fromkeys(found))


def selection_terms(s: ContactState) -> list[str]:
    """What a campaign selects a point by, before it is blinded (`point_facts.selected_by`).

    `attr:<name>=<value>` for each attribute a campaign may select by
    (`attribute_unselectable`), `source:<detail>` for the source detail. The audience query
    reads every `point_facts` row anyway, so these are tokens in the row, not index rows.
    """
    found = [
        attribute_term(k, v)
        for k, v in s.attributes.items()
        if len(v) <= SELECTABLE_VALUE and not _personal(k)
    ]
    if s.source_detail:
        found.append(source_term(s.source_detail))
    return found


#: The longest attribute value a campaign selects by: longer ones are free text, not a group.
SELECTABLE_VALUE = 40
#: Attribute names (their words, case folded) that say the value is personal and nearly
#: unique to its person: a name, an address, a number, a birthday, free text. No campaign
#: selects by them (a name is searched by its words), so they get no term.
_PERSONAL_WORDS = frozenset((
    "name", "names", "naam", "fname", "lname", "mname", "address", "addr", "adres", "street", "straat",
    "huisnummer", "housenumber", "postcode", "zip", "zipcode", "phone", "telefoon", "tel", "mobile",
    "mobiel", "gsm", "fax", "birthday", "birthdate", "birth", "geboortedatum", "verjaardag", "dob",
    "email", "mail", "iban", "bsn", "notes", "note", "opmerking", "opmerkingen", "comment", "comments",
    "latitude", "longitude", "lat", "lon", "lng",
))  # fmt: skip
_PERSONAL_PARTS = ("naam", "name", "adres", "address", "straat", "telefoon", "phone", "geboorte", "birth")
_NAME_WORD = re.compile(r"[^\W_]+")


def attribute_unselectable(name: str, value: str) -> str | None:
    """Why a campaign cannot select points by this attribute (it gets no term), or None.

    Attributes are selected as groups (a town, a rating, a country, a segment), so only
    a value of at most `SELECTABLE_VALUE` characters of an attribute whose name does not
    say it is a name, an address, a phone number, a birthday or notes is indexed
    (docs/privacy.md, "Search terms").
    """
    if len(value) > SELECTABLE_VALUE:
        return f"a value of more than {SELECTABLE_VALUE} characters is free text: not selectable"
    if _personal(name):
        return (
            f"attribute {name!r} holds personal data (a name, address, number, birthday "
            "or notes): not selectable"
        )
    return None


@functools.lru_cache(maxsize=4096)
def _personal(name: str) -> bool:
    """Whether a word of an attribute's name says its value is personal (`_PERSONAL_WORDS`).

    Cached: an import or a rebuild asks it for the same few names on every point.
    """
    return any(
        w in _PERSONAL_WORDS or w.startswith(_PERSONAL_PARTS) or w.endswith(_PERSONAL_PARTS)
        for w in _NAME_WORD.findall(name.casefold())
    )


@functools.lru_cache(maxsize=1 << 16)
def attribute_term(name: str, value: str) -> str:
    """The term a selection by attribute looks for (see `terms`)."""
    return f"attr:{tok(name)}={tok(value)}"


def tag_term(tag: str) -> str:
    """The term a search by tag looks for (see `terms`)."""
    return f"tag:{tag}"


def source_term(detail: str) -> str:
    """The term a selection by source detail looks for (see `terms`)."""
    return f"source:{detail}"


def listing_rows(s: ContactState) -> list[tuple[str, str, date, date | None, str | None]]:
    """The `point_listings` rows of a state: register listings recorded in its own ledger."""
    return [
        (
            s.id,
            li.register,
            li.listed_from,
            li.listed_until,
            None if li.sectors is None else tokens(map(tok, li.sectors)),
        )
        for li in s.listings
    ]
