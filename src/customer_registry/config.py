"""Settings: one class, environment variables prefixed CUSTOMER_REGISTRY_."""

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./customer-registry.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CUSTOMER_REGISTRY_", frozen=True)

    database_url: str = DEFAULT_DATABASE_URL
    public_url: str | None = None
    # None: uvicorn's own default, FORWARDED_ALLOW_IPS or else the loopback addresses.
    forwarded_allow_ips: str | None = None
    # Comma-separated in the environment; "*.example.com" allows every name below it.
    allowed_hosts: Annotated[tuple[str, ...], NoDecode] = ("localhost", "127.0.0.1", "::1")
    token_audience: str = "https://api.horizonafs.io"
    token_ttl_seconds: int = Field(default=86400, ge=60, le=31 * 86400)
    oauth_jwks_url: str | None = None
    oauth_issuer: str | None = None
    key_file: Path = Path("customer-registry.key")
    person_directory: Path | None = None
    migrate_on_start: bool = True
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_wait_seconds: float = Field(default=30.0, ge=0, le=3600)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    body_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    token_failures_per_client: int = Field(default=10, ge=1, le=1_000_000)
    token_failures_per_address: int = Field(default=100, ge=1, le=1_000_000)
    token_failure_window_seconds: int = Field(default=300, ge=1, le=86400)
    log_level: Literal["debug", "info", "warning", "error", "critical"] = "info"
    log_format: Literal["auto", "json", "console"] = "auto"
    # Set: GET /metrics wants it as a bearer token (request counts reveal business volume).
    metrics_token: SecretStr | None = Field(default=None, min_length=16, max_length=1024)
    # The operator console at /console (console/): its sessions' lifetime, and failed
    # sign-ins per operator name per token_failure_window_seconds (per address: ten times).
    console: bool = True
    console_session_seconds: int = Field(default=8 * 3600, ge=60, le=7 * 86400)
    console_sign_in_failures: int = Field(default=5, ge=1, le=1000)
    # Change events and webhooks (docs/events.md).
    event_retention_days: int = Field(default=30, ge=1, le=3650)
    deliver_webhooks: bool = True
    webhook_allow_private: bool = False
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    webhook_retry_base_seconds: float = Field(default=5.0, gt=0, le=86400)
    webhook_retry_max_seconds: float = Field(default=6 * 3600.0, gt=0, le=7 * 86400)
    webhook_retry_for_seconds: float = Field(default=3 * 86400.0, gt=0, le=30 * 86400)

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _host_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            return tuple(
                name.strip().strip("[]").rstrip(".").lower() for name in value if name.strip()
            )
        return value

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        # Operators write LOG_LEVEL=INFO as often as info.
        return value.lower() if isinstance(value, str) else value
