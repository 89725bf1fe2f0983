"""Settings, read from the environment (CONSENTRY_*) only when asked for.

Each field's description is the operator's documentation: `python -m consentry.docsgen`
writes them, with their defaults, to docs/settings.md.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "CONSENTRY_"


class Settings(BaseSettings):
    """Everything an operator can set."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    env: Literal["development", "production"] = Field(
        default="development",
        description="`production` refuses to serve or send a campaign without a secret key.",
    )
    database_url: str = Field(
        default="sqlite:///consentry.db",
        description="SQLAlchemy URL of the store; PostgreSQL for production, "
        "e.g. `postgresql+psycopg://user@host/db`.",
    )
    default_region: str = Field(
        default="NL", description="Country assumed for phone numbers written without a country code."
    )
    lock_wait_s: float | None = Field(
        default=None,
        description="Seconds a statement waits for a lock another connection holds before it fails; "
        "the API and the pages then answer 503 with `Retry-After`. Unset: 5 in a server, 30 in a command.",
    )

    secret_key: str | None = Field(
        default=None,
        description="Signs the public links (confirm, unsubscribe, preferences) and form tokens; "
        "at least 16 characters. Unset in development: a key is generated once and kept in the database.",
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where the public pages are reached: the links in e-mails, the Origin check.",
    )
    doi_expiry_days: int = Field(default=7, description="Days a double opt-in confirmation link stays valid.")

    smtp_host: str = Field(
        default="127.0.0.1", description="The SMTP server for confirmation mails and campaigns."
    )
    smtp_port: int = Field(default=25, description="The SMTP server's port.")
    smtp_starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS.")
    smtp_ssl: bool = Field(default=False, description="Connect with TLS from the start (usually port 465).")
    smtp_user: str | None = Field(default=None, description="Log in with this user; unset: no login.")
    smtp_password: str | None = Field(default=None, description="The SMTP user's password.")
    smtp_timeout: float = Field(
        default=30.0, description="Seconds to wait for the SMTP server before giving up."
    )
    mail_from: str = Field(
        default="noreply@example.nl",
        description="The sender's address of confirmation mails (and of a campaign that has none).",
    )
    mail_from_name: str = Field(default="consentry", description="The sender's name of confirmation mails.")

    privacy_officer_email: str | None = Field(
        default=None,
        description="The privacy officer's address: `consentry dsr remind` (run it daily from cron) "
        "mails it the data-subject requests due soon or overdue, each at most once a day.",
    )
    access_export_dir: str | None = Field(
        default=None,
        description="Directory where handling an access or portability request writes the person's "
        "copy (JSON and a Dutch or English HTML document, readable only by consentry's user), for "
        "the privacy officer to deliver securely; unset: such requests cannot be handled here.",
    )
    dsr_remind_days: int = Field(
        default=7,
        ge=0,
        le=366,
        description="A data-subject request is in the reminder from this many days before its deadline.",
    )

    rate_limit_storage: str = Field(
        default="memory://",
        description="Where rate limits are counted: `memory://` (per process) or e.g. "
        "`redis://127.0.0.1:6379` to share them between processes.",
    )
    signup_limit_per_address: str = Field(
        default="5/hour", description="Sign-ups a form accepts for one e-mail address (limits syntax)."
    )
    signup_limit_per_client: str = Field(
        default="30/hour", description="Sign-ups a form accepts from one client IP address (limits syntax)."
    )

    admin_session_minutes: int = Field(
        default=480, ge=1, description="Minutes an admin app session lasts after logging in."
    )
    admin_login_max_failures: int = Field(
        default=5, ge=1, description="Failed admin logins in a row that lock the user out."
    )
    admin_lockout_minutes: int = Field(
        default=15, ge=1, description="Minutes a locked-out admin user must wait before trying again."
    )
    admin_login_limit_per_client: str = Field(
        default="30/hour",
        description="Admin login attempts accepted from one client IP address "
        "(limits syntax), whichever users they name.",
    )

    soft_bounce_limit: int = Field(
        default=3,
        description="Soft bounces within `CONSENTRY_SOFT_BOUNCE_DAYS` that suppress an address "
        "(recorded as a derived hard bounce); `0` turns it off. See docs/feedback.md.",
    )
    soft_bounce_days: int = Field(
        default=30, description="The window, in days, in which soft bounces are counted."
    )

    webhook_url: str | None = Field(
        default=None,
        description="The webhook transport for SMS and messaging apps: JSON is POSTed here, "
        "signed with the webhook secret (see docs/feedback.md). Unset: no webhook transport.",
    )
    webhook_secret: str | None = Field(
        default=None, description="The HMAC-SHA256 key that signs each webhook call."
    )
    webhook_timeout: float = Field(default=10.0, description="Seconds to wait for the webhook's answer.")
    webhook_retries: int = Field(
        default=2,
        description="Extra attempts after a temporary failure (timeout, 429, 5xx) before giving up.",
    )

    dkim_domain: str | None = Field(
        default=None,
        description="DKIM signing of campaign e-mail: the signing domain. All three DKIM settings "
        "set: every campaign e-mail is signed; any unset: none is.",
    )
    dkim_selector: str | None = Field(
        default=None, description="The selector whose DNS TXT record holds the public key."
    )
    dkim_key_file: str | None = Field(default=None, description="The PEM file with the DKIM private key.")
    unsubscribe_mailto: str | None = Field(
        default=None,
        description="The mailbox in `List-Unsubscribe`'s `mailto:` link (RFC 2369); unset: the "
        "campaign's sender. Replies there must be handled as opt-outs.",
    )

    # Signed checkpoints of the ledger (docs/ledger.md): the key lives outside the database.
    checkpoint_key_file: str | None = Field(
        default=None,
        description="Ed25519 private key (PEM) that signs ledger checkpoints; make it with "
        "`consentry ledger keygen`. Keep it off the database server and out of its backups.",
    )
    checkpoint_file: str | None = Field(
        default=None,
        description="File that signed checkpoints are appended to (JSON lines). Keep it where "
        "whoever can write to the database cannot (another host, a WORM bucket's sync).",
    )
    checkpoint_webhook_url: str | None = Field(
        default=None,
        description="Each checkpoint is also POSTed here as JSON, with the HMAC headers of "
        "`webhook_secret` when that is set (as for the webhook transport).",
    )
    checkpoint_mail_to: str | None = Field(
        default=None,
        description="Each checkpoint is also e-mailed here (e.g. the privacy officer), through "
        "the SMTP settings above.",
    )
    checkpoint_every_s: float = Field(
        default=0.0,
        ge=0.0,
        description="`consentry serve` signs and exports a checkpoint this often (seconds) when "
        "the ledger has grown; 0 turns it off (run `consentry ledger checkpoint` from cron instead).",
    )
    checkpoint_origin: str = Field(
        default="consentry",
        description="Name of this ledger in its checkpoints, so one ledger's checkpoint is "
        "never taken for another's.",
    )

    retention_policies_file: str | None = Field(
        default=None,
        description="TOML file of the retention policies (`[[policy]]` tables: id, names, condition, "
        "period, rule, citation); unset: the Dutch defaults. See docs/retention.md.",
    )
    retention_schedule: str | None = Field(
        default=None,
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="`consentry serve` runs retention once a day at this Dutch time (`HH:MM`, "
        "Europe/Amsterdam), one server at a time; unset: off (run `consentry retention run` from cron).",
    )
    retention_batch: int = Field(
        default=1000,
        ge=1,
        le=100_000,
        description="Contact points retention reads, and erases in one transaction, per batch.",
    )

    master_key: SecretStr | None = Field(
        default=None,
        description="The master key that wraps every contact's data key: base64 of 32 random bytes "
        "(e.g. `python -c 'import os,base64; print(base64.b64encode(os.urandom(32)).decode())'`). "
        "Keep it outside the database and its backups; see docs/privacy.md. "
        "Set this or `CONSENTRY_MASTER_KEY_FILE`, not both.",
    )
    master_key_file: str | None = Field(
        default=None,
        description="A file holding the master key (base64 of 32 bytes), instead of "
        "`CONSENTRY_MASTER_KEY`: e.g. a secret mounted by the container platform.",
    )
    master_key_previous: SecretStr | None = Field(
        default=None,
        description="Master keys being rotated away from (base64, separated by commas): data keys "
        "still wrapped under them can be unwrapped and re-wrapped under the master key. "
        "Remove them once the rotation is done (docs/privacy.md).",
    )
    blind_index_key: SecretStr | None = Field(
        default=None,
        description="The secret of the blind indexes that find contact points and suppression records "
        "without their clear value: base64 of at least 32 random bytes. It cannot be rotated "
        "(erased contacts keep only their index), so keep it as long as the database.",
    )
