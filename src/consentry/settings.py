"""Settings, read from the environment (CONSENTRY_*) only when asked for."""

from __future__ import annotations

from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything an operator can set."""

    model_config = SettingsConfigDict(env_prefix="CONSENTRY_", extra="ignore")

    #: `production` refuses to serve without a secret key.
    env: Literal["development", "production"] = "development"
    database_url: str = "sqlite:///consentry.db"
    #: Country assumed for phone numbers written without a country code.
    default_region: str = "NL"
    #: Language of explanations when none is asked for.
    language: str = "nl"

    #: Signs public links (confirm, unsubscribe, preferences) and form tokens. In
    #: development a key is generated once and kept in the database.
    secret_key: str | None = None
    #: Where the public pages are reached; used in links in e-mails.
    base_url: str = "http://127.0.0.1:8000"
    #: Days a double opt-in confirmation link stays valid.
    doi_expiry_days: int = 7

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_timeout: float = 30.0
    mail_from: str = "noreply@example.nl"
    mail_from_name: str = "consentry"

    #: Storage for rate limits: `memory://` (per process) or e.g. `redis://127.0.0.1:6379`.
    rate_limit_storage: str = "memory://"
    signup_limit_per_address: str = "5/hour"
    signup_limit_per_client: str = "30/hour"

    #: Soft bounces that suppress an address when this many fall within
    #: `soft_bounce_days` (consentry then records a derived hard bounce); 0 turns it off.
    soft_bounce_limit: int = 3
    soft_bounce_days: int = 30

    #: Webhook transport for SMS and messaging apps: JSON is POSTed here, signed with
    #: `webhook_secret` (HMAC-SHA256; see docs/feedback.md). Unset: no webhook transport.
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_timeout: float = 10.0
    #: Extra attempts after a temporary failure (timeout, 429, 5xx) before giving up.
    webhook_retries: int = 2

    #: DKIM signing of campaign e-mail (dkimpy): the signing domain, the selector whose
    #: DNS TXT record holds the public key, and the PEM file with the private key.
    #: All three set: every campaign e-mail is signed; any unset: none is.
    dkim_domain: str | None = None
    dkim_selector: str | None = None
    dkim_key_file: str | None = None
    #: The mailbox in List-Unsubscribe's mailto: link (RFC 2369); default the campaign's sender.
    #: Replies there must be handled as opt-outs: that is the "working opt-out address".
    unsubscribe_mailto: str | None = None
