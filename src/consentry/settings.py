"""Settings, read from the environment (CONSENTRY_*) only when asked for."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything an operator can set."""

    model_config = SettingsConfigDict(env_prefix="CONSENTRY_", extra="ignore")

    database_url: str = "sqlite:///consentry.db"
    #: Country assumed for phone numbers written without a country code.
    default_region: str = "NL"
    #: Language of explanations when none is asked for.
    language: str = "nl"
