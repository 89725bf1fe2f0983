"""Table definitions (SQLAlchemy Core). The migrations create exactly these.

The admin app's own tables (users, its audit log) are in `admin_tables`, the campaigns and
their send queue in `campaign_tables`; both re-exported here.
"""

from __future__ import annotations

import sqlalchemy as sa

from consentry.adapters.sql.admin_tables import admin_audit, admin_audit_head, admin_users
from consentry.adapters.sql.campaign_tables import campaign_claims, campaign_messages, campaigns
from consentry.adapters.sql.columns import JSONType, UTCDateTime, metadata
from consentry.policy.factrows import MASKS

__all__ = [
    "JSONType",
    "UTCDateTime",
    "admin_audit",
    "admin_audit_head",
    "admin_users",
    "campaign_claims",
    "campaign_messages",
    "campaigns",
    "metadata",
]


events = sa.Table(
    "events",
    metadata,
    #: On SQLite the table's rowid itself (INTEGER PRIMARY KEY): no hidden rowid and no second
    #: b-tree for the key; an append writes at the right-hand end of the table.
    sa.Column(
        "seq",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("contact_point_id", sa.String(40), nullable=False),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("occurred_at", UTCDateTime(), nullable=False),
    sa.Column("recorded_at", UTCDateTime(), nullable=False),
    sa.Column("schema_version", sa.SmallInteger, nullable=False),
    #: The clear fields of the payload (see `consentry.adapters.sql.sealing`).
    sa.Column("payload", JSONType, nullable=False),
    #: The personal fields, encrypted under the contact's data key; NULL when there are none.
    sa.Column("sealed", sa.LargeBinary, nullable=True),
    #: The event's chain hash as its 32 bytes (`stored.stored_hash`); the chain, its exports and
    #: checkpoints spell it in hex (`stored.chain_hex`). The hash it is chained to is the previous
    #: row's (the chain's genesis for the first): not stored twice (docs/ledger.md).
    sa.Column("hash", sa.LargeBinary(32), nullable=False),
    sa.Index("ix_events_point_time", "contact_point_id", "occurred_at", "seq"),
)

ledger_head = sa.Table(
    "ledger_head",
    metadata,
    sa.Column("id", sa.SmallInteger, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

#: Registered contact points, found by the blind index of their normalised value in its compared form
#: (`lookup`; `addresses.match_form`, or the value itself for a point indexed before it),
#: never by the value itself; `contact_ref` names the contact whose data key seals their fields.
#: An erased point keeps its row with `lookup` NULL (its suppression record keeps the index).
contact_points = sa.Table(
    "contact_points",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("lookup", sa.LargeBinary(16), nullable=True),
    sa.Column("contact_ref", sa.String(40), nullable=False),
    sa.Column("registered_seq", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("kind", "lookup", name="uq_contact_points_kind_lookup"),
    #: An erasure asks whether other points of a contact are left (its data key goes with the last).
    sa.Index("ix_contact_points_contact_ref", "contact_ref"),
)

purposes = sa.Table(
    "purposes",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("name_nl", sa.String(200), nullable=False),
    sa.Column("name_en", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("categories", JSONType, nullable=False),
    sa.Column("third_party", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

settings = sa.Table(
    "settings",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", JSONType, nullable=False),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("scopes", JSONType, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
)

form_versions = sa.Table(
    "form_versions",
    metadata,
    sa.Column("form_key", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("definition", JSONType, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

registers = sa.Table(
    "registers",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("hashed", sa.Boolean, nullable=False),
    sa.Column("valid_from", sa.Date, nullable=True),
    sa.Column("valid_until", sa.Date, nullable=True),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

register_entries = sa.Table(
    "register_entries",
    metadata,
    sa.Column("register", sa.String(64), primary_key=True),
    sa.Column("entry", sa.String(512), primary_key=True),
    sa.Column("listed_from", sa.Date, nullable=True),
    sa.Column("listed_until", sa.Date, nullable=True),
    sa.Index("ix_register_entries_entry", "entry"),
)

#: What an audience report reads of a `point_facts` row, in the order of SQLite's covering
#: index on them (`ix_point_facts_judged`, which ends with the point's id: `COVERED`): the kind,
#: the point's number (a report counts in ranges of it), then every fact the rules test. Without
#: the blind indexes, the sealed value and name and the head, an entry is about half the row, and
#: a report over one kind reads that kind's entries only (`adapters.sql.audience`;
#: docs/performance.md). A report that asks more (a register's entries by the point's lookup)
#: reads the table.
JUDGED = (
    "kind", "point_no", "party", "source", "erased", "person_objected_dm", "person_objected_profiling",
    "restricted", "suppressed", "published", "published_unproven", "outside_eea", "local_rules_met",
    "notice14", "bought_any", "consented_ever", "ended_day", "c_valid", "c_own", "c_pending",
    "c_defective", "subscribed", "opt_outs", "bought", "bought_ex", "listed", "suppressed_for", "c_fresh",
    "c_timed", "more", "tags", "selected_by",
)  # fmt: skip

#: SQLite's covering index of `point_facts` (`ix_point_facts_judged`): what a report reads
#: (`JUDGED`) and, last, the point's id, which a queue's fill reads with each point's rule
#: (`AudienceQuery.keyed`; migration 0022). Without it the fill read the table (every kind's rows,
#: with their sealed values and head): at 1M, ~12% of the fill's INSERT in CPU (docs/performance.md).
COVERED = (*JUDGED, "contact_point_id")

#: The audience projection: one narrow row per contact point with every fact the rules ask
#: (see consentry.policy.factrows), its head (for the state cache) and, for the sender and the
#: export, its value and name sealed under its contact's data key (its attributes are in the
#: ledger: read from its folded state). The columns a report reads come first, in the order of
#: `JUDGED` (migration 0018): PostgreSQL takes a row apart up to the last column a statement
#: names, one column at a time.
point_facts = sa.Table(
    "point_facts",
    metadata,
    #: The point's short number (`contact_points.registered_seq`): its key, and what `point_terms`
    #: names it by. On SQLite it is the table's rowid (INTEGER PRIMARY KEY): no index of its own,
    #: and an import appends at the right-hand end of the table.
    sa.Column(
        "point_no",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("party", sa.String(20), nullable=False),
    sa.Column("source", sa.String(40), nullable=False),
    sa.Column("erased", sa.Boolean, nullable=False),
    #: Whether the point's person objected (its own objection, or one made on another point of
    #: its contact: `contact_objections`), kept by the writer on every point of the contact
    #: (`adapters.sql.objections`): the audience SQL tests these instead of looking the contact up.
    sa.Column("person_objected_dm", sa.Boolean, nullable=False),
    sa.Column("person_objected_profiling", sa.Boolean, nullable=False),
    # Processing restricted (GDPR Art. 18): no marketing until lifted.
    sa.Column("restricted", sa.Boolean, nullable=False),
    *(
        sa.Column(name, sa.Boolean, nullable=False)
        for name in (
            "suppressed",
            "published",
            "published_unproven",
            "outside_eea",
            "local_rules_met",
            "notice14",
            "bought_any",
            "consented_ever",
        )
    ),
    sa.Column("ended_day", sa.Date, nullable=True),
    #: What the rules ask per purpose and channel, category or register: token sets as bit
    #: masks, each column numbering its own tokens (`fact_bits`, `factrows.Numbering`).
    *(sa.Column(name, sa.BigInteger, nullable=False) for name in MASKS),
    #: Open-ended token strings (`|a|b|`): the end days of consents given for a time, tags.
    sa.Column("c_timed", sa.Text, nullable=False),
    #: Tokens numbered beyond a mask's 63 bits, as `|<column>.<number>|` (`factrows.Numbering`).
    sa.Column("more", sa.Text, nullable=False),
    sa.Column("tags", sa.Text, nullable=False),
    #: What a campaign selects the point by (`factrows.selection_terms`: selectable attributes,
    #: the source detail) as `|<token>|...`: their 8-byte blind indexes (`BlindIndex.term`) in base64.
    sa.Column("selected_by", sa.Text, nullable=False),
    #: The blind index of the value (clear registers list blind indexes too).
    sa.Column("lookup", sa.LargeBinary(16), nullable=False),
    #: SHA-256 of the value, as hashed registers list it in hex (docs/privacy.md): its 32 bytes.
    sa.Column("value_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("contact_point_id", sa.String(40), nullable=False, unique=True),
    #: The point's contact (one person or organisation) as the store names it (`contact_ref`
    #: of its current contact id), for objections that follow the person.
    sa.Column("contact_id", sa.String(40), nullable=False),
    #: The point's own objections (the person's are `person_objected_*`).
    sa.Column("objected_dm", sa.Boolean, nullable=False),
    sa.Column("objected_profiling", sa.Boolean, nullable=False),
    sa.Column("value_ct", sa.LargeBinary, nullable=False),
    sa.Column("name_ct", sa.LargeBinary, nullable=True),
    sa.Column("event_count", sa.Integer, nullable=False),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
    sa.Column("last_event_at", UTCDateTime(), nullable=True),
    #: When an earlier suppression of the same address or number began (`suppressions`).
    sa.Column("suppressed_since", UTCDateTime(), nullable=True),
    sa.Index("ix_point_facts_contact", "contact_id"),
    #: SQLite: the columns an audience report reads, by kind and number, and the point's id (`COVERED`).
    sa.Index("ix_point_facts_judged", *COVERED).ddl_if(dialect="sqlite"),
)

#: The bit each token of a `point_facts` mask column has: numbered on first sight by the writer
#: (which holds the ledger lock), never reused. Tokens name purposes, channels, categories and
#: registers, never a person.
fact_bits = sa.Table(
    "fact_bits",
    metadata,
    sa.Column("col", sa.String(32), primary_key=True),
    sa.Column("token", sa.Text, primary_key=True),
    sa.Column("bit", sa.Integer, nullable=False),
    sa.UniqueConstraint("col", "bit", name="uq_fact_bits_col_bit"),
)

#: Blind indexes (8 bytes, `BlindIndex.term`) of what the admin app searches a contact point by
#: (`factrows.terms`): the words of its name, its tags; the point named by its short number
#: (`point_facts.point_no`), not its 26-character id.
#: The key (point, term) is the index a refresh deletes a point's terms by; on SQLite the table
#: is that index itself (WITHOUT ROWID). A search finds a term through `ix_point_terms_term`.
point_terms = sa.Table(
    "point_terms",
    metadata,
    sa.Column("point_no", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("term", sa.LargeBinary(8), primary_key=True),
    sa.Index("ix_point_terms_term", "term"),
    sqlite_with_rowid=False,
)

#: Addresses and numbers that stay suppressed, also after their contact is erased: only the
#: blind index remains ("uitgeschreven = uitgeschreven").
suppressions = sa.Table(
    "suppressions",
    metadata,
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("lookup", sa.LargeBinary(16), primary_key=True),
    #: `unsubscribed`, `objection`, `complaint`, `hard_bounce` or `erased`.
    sa.Column("what", sa.String(32), nullable=False),
    #: JSON list of channels, or "all".
    sa.Column("scope", sa.Text, nullable=False),
    sa.Column("since", UTCDateTime(), nullable=False),
    #: A code: `request`, `retention:<policy>` ...
    sa.Column("reason", sa.String(64), nullable=False),
    #: The event that recorded it (the erasure).
    sa.Column("seq", sa.BigInteger, nullable=False),
)

#: Where the hash chain was started anew: an epoch records the head of the chain before it.
chain_epochs = sa.Table(
    "chain_epochs",
    metadata,
    sa.Column("epoch", sa.SmallInteger, primary_key=True, autoincrement=False),
    sa.Column("first_seq", sa.BigInteger, nullable=False),
    sa.Column("previous_head_seq", sa.BigInteger, nullable=False),
    sa.Column("previous_head_hash", sa.String(64), nullable=False),
    sa.Column("started_at", UTCDateTime(), nullable=False),
)

#: Register listings recorded in a contact point's own ledger (`register.listed`).
point_listings = sa.Table(
    "point_listings",
    metadata,
    sa.Column("contact_point_id", sa.String(40), nullable=False),
    sa.Column("register", sa.String(64), nullable=False),
    sa.Column("listed_from", sa.Date, nullable=False),
    sa.Column("listed_until", sa.Date, nullable=True),
    sa.Column("sectors", sa.Text, nullable=True),
    sa.Index("ix_point_listings_point", "contact_point_id"),
)

#: Objections (GDPR Art. 21) of contact points that belong to a contact: the writer marks every
#: point of the contact from here (`point_facts.person_objected_*`, `adapters.sql.objections`),
#: so an objection made on one point covers every point of that person, also one registered later.
contact_objections = sa.Table(
    "contact_objections",
    metadata,
    sa.Column("contact_point_id", sa.String(40), nullable=False),
    sa.Column("contact_id", sa.String(40), nullable=False),
    sa.Column("scope", sa.String(32), nullable=False),
    sa.Index("ix_contact_objections_point", "contact_point_id"),
    sa.Index("ix_contact_objections_scope", "scope", "contact_id"),
)

#: Each contact's data key, wrapped under the master key `key_id` (see consentry.adapters.crypto).
#: Deleting a row crypto-shreds the contact: its encrypted fields can no longer be read.
data_keys = sa.Table(
    "data_keys",
    metadata,
    sa.Column("contact_id", sa.Text, primary_key=True),
    sa.Column("key_id", sa.String(64), nullable=False),
    sa.Column("wrapped", sa.LargeBinary, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    # On SQLite the table is its key's b-tree: no rowid and no second b-tree for the key.
    sqlite_with_rowid=False,
)

#: The master keys data keys have been wrapped under, each with a key check value (a known
#: value wrapped under it), so a wrong master key is refused at start instead of used.
master_keys = sa.Table(
    "master_keys",
    metadata,
    sa.Column("key_id", sa.String(64), primary_key=True),
    sa.Column("key_check", sa.LargeBinary, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

#: Data-subject requests (GDPR Art. 12(3), 15-21) and their deadlines: ids, codes and moments
#: only; the note, the reasons and the outcome are in the ledger events the row names.
dsr_requests = sa.Table(
    "dsr_requests",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("contact_point_id", sa.String(40), nullable=False),
    sa.Column("contact_ref", sa.Text, nullable=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("via", sa.String(32), nullable=False),
    sa.Column("language", sa.String(2), nullable=False),
    sa.Column("received_at", UTCDateTime(), nullable=False),
    sa.Column("received_event", sa.String(40), nullable=False),
    sa.Column("due_at", UTCDateTime(), nullable=False),
    sa.Column("extended_until", UTCDateTime(), nullable=True),
    sa.Column("extension_event", sa.String(40), nullable=True),
    sa.Column("extension_notified_at", UTCDateTime(), nullable=True),
    sa.Column("identity", sa.String(16), nullable=False),
    sa.Column("identity_method", sa.String(32), nullable=True),
    sa.Column("identity_checked_at", UTCDateTime(), nullable=True),
    sa.Column("handler", sa.String(120), nullable=True),
    sa.Column("handled_at", UTCDateTime(), nullable=True),
    sa.Column("outcome_event", sa.String(40), nullable=True),
    sa.Column("person_told_at", UTCDateTime(), nullable=True),
    sa.Column("reminded_on", sa.Date, nullable=True),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Index("ix_dsr_requests_state_due", "state", "due_at"),
    sa.Index("ix_dsr_requests_point", "contact_point_id"),
)
