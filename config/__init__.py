"""Settings read from the environment, in one place.

Every variable has an embedded default so that a newcomer needs no server: SQLite in the
instance folder, a real Celery worker over kombu's filesystem transport, mail into a mail
drop. Production and CI point the same variables at PostgreSQL, Redis and SMTP.
A bad value raises ConfigError with one line naming the variable; the CLI and the WSGI entry
point turn it into a non-zero exit.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

DATABASE_BACKENDS = {"sqlite", "postgresql"}
BROKER_SCHEMES = {"redis", "rediss", "filesystem", "sqla+sqlite", "sqla+postgresql", "amqp",
                  "pyamqp", "memory"}
REDIS_SCHEMES = {"redis", "rediss", "unix"}
SMTP_SCHEMES = {"smtp", "smtps"}
# Variables with a default that deployments rarely change: delivery tuning and test hooks.
TUNING_VARIABLES = frozenset({
    "MAIL_MAX_ATTEMPTS", "MAIL_RETRY_BASE_SECONDS", "MAIL_RETRY_CAP_SECONDS",
    "MAIL_STALE_CLAIM_SECONDS", "MAIL_RESEND_AFTER_SECONDS", "MAIL_BATCH_SIZE",
    "MAIL_FLUSH_EVERY", "SOKAI_SUMMARY_STAGE_DELAY", "SOKAI_SWEEP_SECONDS",
    "SOKAI_BEAT_LEASE_SECONDS", "SOKAI_TASK_QUEUE",
    # Optional operations settings: off unless set.
    "METRICS_TOKEN", "LOG_FORMAT",
})


class ConfigError(Exception):
    """A setting has a value Sokai cannot use. str() is the one line to show."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


@dataclass(frozen=True)
class Settings:
    instance_path: Path
    database_url: str
    broker_url: str
    redis_url: str | None
    smtp_url: str | None
    secret_key: str
    base_url: str
    # Set when the defaults are in use; shown on the health page and in `sokai run`.
    embedded: dict[str, bool] = field(default_factory=dict)
    # The From: of every mail ("Name <address>"); empty: "Sokai <sokai@host of base_url>".
    mail_from: str = ""
    # How hard mail delivery tries (MAIL_*): retries grow from the base up to the cap.
    mail_max_attempts: int = 8
    mail_retry_base_seconds: float = 30.0
    mail_retry_cap_seconds: float = 6 * 3600.0
    mail_stale_claim_seconds: float = 600.0
    mail_resend_after_seconds: float = 60.0
    mail_batch_size: int = 200
    mail_flush_every: int = 100
    # How many reverse proxies in front add X-Forwarded-* (SOKAI_TRUSTED_PROXIES): 1 behind
    # Caddy or nginx, 0 (the headers are ignored) when clients connect directly.
    trusted_proxies: int = 0
    # A test hook (SOKAI_SUMMARY_STAGE_DELAY): seconds each summary stage waits, so that a
    # test can kill a worker in the middle of a job.
    summary_stage_delay: float = 0.0
    # How often beat sends the sweep, and how long its lease lasts without renewal (a second
    # beat takes over after that when the first one died).
    sweep_seconds: float = 60.0
    beat_lease_seconds: float = 30.0
    # The broker queue of this installation (two installations may share one Redis).
    task_queue: str = "sokai"
    # Bearer token for /metrics; empty: /metrics answers 404.
    metrics_token: str = ""
    # "json": one JSON object per log line (with the request id); anything else: plain text.
    log_format: str = "text"

    @property
    def message_id_domain(self) -> str:
        """The right-hand side of every Message-ID: MAIL_FROM's domain, else the host of
        SOKAI_BASE_URL (a receiver groups and de-duplicates by it)."""
        address = parseaddr(self.mail_from)[1]
        if "@" in address:
            return address.rpartition("@")[2].lower()
        return urlsplit(self.base_url).hostname or "localhost"

    @property
    def broker_is_embedded(self) -> bool:
        return self.broker_url.startswith("filesystem://")

    @property
    def broker_folder(self) -> Path:
        return self.instance_path / "broker"

    @property
    def broker_control_folder(self) -> Path:
        return self.instance_path / "broker-control"

    @property
    def mail_drop(self) -> Path:
        return self.instance_path / "maildrop"

    @property
    def uploads_path(self) -> Path:
        return self.instance_path / "uploads"

    def celery_config(self) -> dict[str, Any]:
        """Celery settings: at-least-once delivery, the database is the source of truth."""
        conf: dict[str, Any] = {
            "broker_url": self.broker_url,
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_prefetch_multiplier": 1,
            "task_serializer": "json",
            "result_serializer": "json",
            "accept_content": ["json"],
            "task_ignore_result": True,
            "result_backend": None,
            "timezone": "UTC",
            "enable_utc": True,
            "broker_connection_retry_on_startup": True,
            "worker_hijack_root_logger": False,
            "task_default_queue": self.task_queue,
            "beat_schedule": {
                "sweep": {"task": "sokai.sweep", "schedule": self.sweep_seconds},
                # Personal data past its network's retention period (services.retention).
                "retention": {"task": "sokai.anonymise_expired", "schedule": 3600.0},
            },
            # Only the beat holding the database lease sends (two beats stay exactly-once).
            "beat_scheduler": "tasks.scheduling:LeasedScheduler",
            "beat_max_loop_interval": max(1.0, self.beat_lease_seconds / 3),
        }
        if self.broker_is_embedded:
            folder = str(self.broker_folder)
            # kombu's filesystem transport, with messages written atomically (tasks/broker.py).
            conf["broker_transport"] = "tasks.broker:Transport"
            conf["broker_transport_options"] = {
                "data_folder_in": folder,
                "data_folder_out": folder,
                "control_folder": str(self.broker_control_folder),
                "store_processed": False,
                # The folder is polled: every second by default, which left a worker idle
                # between two mail batches for half a second on average.
                "polling_interval": 0.1,
            }
        elif self.broker_url.startswith(("redis://", "rediss://")):
            # Redelivery of an unacknowledged message after a worker died; the database
            # sweep repairs anything lost when Redis itself restarts without persistence.
            conf["broker_transport_options"] = {"visibility_timeout": 3600}
        return conf


def _number(env: dict[str, str], name: str, default: float, kind: type = float,
            minimum: float = 0) -> Any:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(name, f"{raw!r} is not a {kind.__name__}") from None
    if value < minimum:
        raise ConfigError(name, f"{raw!r} is below {minimum}")
    return value


def _check_url(variable: str, value: str, schemes: set[str], example: str) -> str:
    parts = urlsplit(value)
    if not parts.scheme or parts.scheme not in schemes:
        raise ConfigError(
            variable,
            f"unknown or missing scheme in {value!r} (expected one of "
            f"{', '.join(sorted(schemes))}; e.g. {example})",
        )
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ConfigError(variable, f"cannot parse {value!r}: {exc}") from None
    return value


def normalise_database_url(value: str, variable: str = "DATABASE_URL") -> str:
    """Parse a database URL; plain postgresql:// is taken to mean the psycopg 3 driver."""
    try:
        url: URL = make_url(value)
    except ArgumentError:
        raise ConfigError(
            variable,
            f"cannot parse {value!r} as a database URL "
            "(e.g. postgresql+psycopg://user:pass@host:5432/sokai or sqlite:////path/sokai.db)",
        ) from None
    if url.get_backend_name() not in DATABASE_BACKENDS:
        raise ConfigError(
            variable,
            f"unsupported database {url.get_backend_name()!r} (use postgresql or sqlite)",
        )
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def _mail_from(value: str | None) -> str:
    """MAIL_FROM: "Name <address>" or a bare address."""
    if value is None:
        return ""
    address = parseaddr(value)[1]
    if "@" not in address or address.startswith("@") or address.endswith("@"):
        raise ConfigError("MAIL_FROM", f"no email address in {value!r} "
                                       "(e.g. ANMC21 Secretariat <secretariat@example.org>)")
    return value


def _secret_key(instance_path: Path) -> str:
    # Generated once and kept, so sessions survive a restart of the embedded setup.
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)

    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    instance_path = Path(get("SOKAI_INSTANCE_PATH") or Path.cwd() / "instance").resolve()
    embedded: dict[str, bool] = {}

    db_value = get("DATABASE_URL")
    if db_value is None:
        embedded["database"] = True
        database_url = f"sqlite:///{instance_path / 'sokai.sqlite3'}"
    else:
        database_url = normalise_database_url(db_value)

    broker_value = get("CELERY_BROKER_URL")
    if broker_value is None:
        embedded["broker"] = True
        broker_url = "filesystem://"
    else:
        broker_url = _check_url("CELERY_BROKER_URL", broker_value, BROKER_SCHEMES,
                                "redis://localhost:6379/0")

    redis_value = get("REDIS_URL")
    redis_url = (None if redis_value is None else
                 _check_url("REDIS_URL", redis_value, REDIS_SCHEMES, "redis://localhost:6379/1"))

    smtp_value = get("SMTP_URL")
    smtp_url = (None if smtp_value is None else
                _check_url("SMTP_URL", smtp_value, SMTP_SCHEMES, "smtp://user:pass@host:587"))
    if smtp_url is None:
        embedded["mail"] = True

    base_value = get("SOKAI_BASE_URL") or "http://127.0.0.1:5000"
    base_url = _check_url("SOKAI_BASE_URL", base_value, {"http", "https"},
                          "https://sokai.example.org").rstrip("/")
    if not urlsplit(base_url).hostname:
        raise ConfigError("SOKAI_BASE_URL", f"no host name in {base_value!r}")

    secret_key = get("SECRET_KEY")
    if secret_key is None:
        embedded["secret_key"] = True
        secret_key = _secret_key(instance_path)

    return Settings(
        instance_path=instance_path,
        database_url=database_url,
        broker_url=broker_url,
        redis_url=redis_url,
        smtp_url=smtp_url,
        secret_key=secret_key,
        base_url=base_url,
        embedded=embedded,
        mail_from=_mail_from(get("MAIL_FROM")),
        mail_max_attempts=_number(env, "MAIL_MAX_ATTEMPTS", 8, int, 1),
        mail_retry_base_seconds=_number(env, "MAIL_RETRY_BASE_SECONDS", 30.0),
        mail_retry_cap_seconds=_number(env, "MAIL_RETRY_CAP_SECONDS", 6 * 3600.0),
        mail_stale_claim_seconds=_number(env, "MAIL_STALE_CLAIM_SECONDS", 600.0),
        mail_resend_after_seconds=_number(env, "MAIL_RESEND_AFTER_SECONDS", 60.0),
        mail_batch_size=_number(env, "MAIL_BATCH_SIZE", 200, int, 1),
        mail_flush_every=_number(env, "MAIL_FLUSH_EVERY", 100, int, 1),
        summary_stage_delay=_number(env, "SOKAI_SUMMARY_STAGE_DELAY", 0.0),
        sweep_seconds=_number(env, "SOKAI_SWEEP_SECONDS", 60.0, float, 0.5),
        beat_lease_seconds=_number(env, "SOKAI_BEAT_LEASE_SECONDS", 30.0, float, 1),
        task_queue=get("SOKAI_TASK_QUEUE") or "sokai",
        metrics_token=get("METRICS_TOKEN") or "",
        log_format=(get("LOG_FORMAT") or "text").lower(),
        trusted_proxies=_number(env, "SOKAI_TRUSTED_PROXIES", 0, int, 0),
    )


# --- the settings in force -------------------------------------------------------------------
# Use cases read the settings of the application they run in (its instance folder, base URL,
# secret key) without knowing about Flask: the web app and the worker install a provider when
# they enter their application context.

_PROVIDER: ContextVar[Callable[[], Settings] | None] = ContextVar("sokai_settings", default=None)


def install_settings_provider(provider: Callable[[], Settings]) -> None:
    _PROVIDER.set(provider)


def current_settings() -> Settings:
    provider = _PROVIDER.get()
    if provider is None:
        raise RuntimeError("no Sokai settings in force: run inside the app's context")
    return provider()
