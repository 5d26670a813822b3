"""Reading configuration from the environment.

Every reader returns a working default when its variable is unset and raises
``ConfigError`` with one readable sentence when a value is present but wrong;
uncaught, that error ends start-up with one line, never a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url


class ConfigError(SystemExit):
    """A configuration value is present but unusable.

    A ``SystemExit``: wherever the settings read a bad value, even outside their
    ``try``, start-up ends with status 1 and this one line on stderr, never a
    traceback. ``str(error)`` is the sentence alone; the exit line adds the prefix.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        # What the interpreter prints when a SystemExit ends the process.
        self.code = f"Configuration error: {message}"


TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean; use 1 or 0.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number.") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name}={value} must be at least {minimum}.")
    return value


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number.") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name}={value} must be at least {minimum}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


def env_url(name: str, default: str) -> str:
    """An absolute http(s) URL without a trailing slash (for links in emails and feeds)."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default.rstrip("/")
    value = raw.strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{name}={raw!r} is not an absolute http(s) URL (e.g. https://news.example.org)."
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"{name}={raw!r} must not have a query or fragment.")
    return value


SUPPORTED_DATABASE_SCHEMES = ("postgres", "postgresql", "pgsql", "sqlite")

# The web process and the worker's processes write to one SQLite file at once.
SQLITE_OPTIONS = {
    # Seconds a connection waits for another's write lock before "database is locked".
    "timeout": 20,
    # Take the write lock when a transaction begins: a transaction that read first and
    # then wants to write could otherwise fail at once, without waiting, when another
    # process wrote in between (SQLite cannot upgrade a stale read).
    "transaction_mode": "IMMEDIATE",
    # Write-ahead log: readers never wait for the writer, nor the writer for readers.
    "init_command": "PRAGMA journal_mode=WAL",
}


def database_config(url: str, *, default_sqlite_path: Path) -> dict:
    """Return a Django DATABASES entry for ``url`` (empty means a local SQLite file)."""
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(default_sqlite_path),
            "OPTIONS": dict(SQLITE_OPTIONS),
        }
    parts = urlsplit(url)
    if parts.scheme not in SUPPORTED_DATABASE_SCHEMES:
        raise ConfigError(
            f"DATABASE_URL has scheme {parts.scheme or '(none)'!r}; expected one of "
            f"{', '.join(SUPPORTED_DATABASE_SCHEMES)} (e.g. postgres://user@host:5432/name)."
        )
    if parts.scheme != "sqlite":
        try:
            port = parts.port  # urlsplit checks the port only when asked for it
        except ValueError:
            port = -1
        if port is not None and not 0 < port < 65536:
            raise ConfigError("DATABASE_URL has a port that is not a number from 1 to 65535.")
        if not parts.path.strip("/"):
            raise ConfigError("DATABASE_URL names no database (add /name after the host).")
    try:
        parsed = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except Exception as exc:  # dj-database-url raises several types for bad URLs
        raise ConfigError(f"DATABASE_URL could not be parsed: {exc}") from None
    if parsed["ENGINE"] == "django.db.backends.sqlite3":
        if not parsed.get("NAME"):
            raise ConfigError("DATABASE_URL names no SQLite file (e.g. sqlite:///var/digest.db).")
        parsed["OPTIONS"] = {**SQLITE_OPTIONS, **parsed.get("OPTIONS", {})}
    return parsed


MAILBOX_BACKEND = "digest.core.mailbox.EmailBackend"

# django-anymail's ESPs that EMAIL_URL=anymail://<esp> configures from the environment:
# esp -> (anymail backend module, [(variable, ANYMAIL setting, required)]).
ANYMAIL_ESPS: dict[str, tuple[str, list[tuple[str, str, bool]]]] = {
    "mailgun": (
        "mailgun",
        [
            ("MAILGUN_API_KEY", "MAILGUN_API_KEY", True),
            ("MAILGUN_SENDER_DOMAIN", "MAILGUN_SENDER_DOMAIN", False),
            # https://api.eu.mailgun.net/v3 for an EU-region domain
            ("MAILGUN_API_URL", "MAILGUN_API_URL", False),
            ("MAILGUN_WEBHOOK_SIGNING_KEY", "MAILGUN_WEBHOOK_SIGNING_KEY", False),
        ],
    ),
    "amazon_ses": (
        "amazon_ses",
        [
            ("AWS_ACCESS_KEY_ID", "aws_access_key_id", True),
            ("AWS_SECRET_ACCESS_KEY", "aws_secret_access_key", True),
            ("AWS_REGION", "region_name", True),
            ("AMAZON_SES_CONFIGURATION_SET_NAME", "AMAZON_SES_CONFIGURATION_SET_NAME", False),
        ],
    ),
    "postmark": ("postmark", [("POSTMARK_SERVER_TOKEN", "POSTMARK_SERVER_TOKEN", True)]),
    "sendgrid": ("sendgrid", [("SENDGRID_API_KEY", "SENDGRID_API_KEY", True)]),
    "brevo": ("brevo", [("BREVO_API_KEY", "BREVO_API_KEY", True)]),
}
ANYMAIL_ALIASES = {"ses": "amazon_ses", "amazon-ses": "amazon_ses", "amazonses": "amazon_ses"}
# Session keys for boto3 (Amazon SES), passed through ANYMAIL's AMAZON_SES_CLIENT_PARAMS.
_BOTO_PARAMS = {"aws_access_key_id", "aws_secret_access_key", "region_name"}


def anymail_config(esp: str, environ: Mapping[str, str]) -> dict:
    """Django settings for django-anymail's ``esp`` backend, its keys read from ``environ``.

    Raises ``ConfigError`` naming the missing variable when a required key is unset, and
    listing the supported providers when ``esp`` is not one of them. ``ANYMAIL_WEBHOOK_SECRET``
    (``user:password``) protects the tracking webhooks of every provider.
    """
    name = ANYMAIL_ALIASES.get(esp.lower(), esp.lower())
    if name not in ANYMAIL_ESPS:
        raise ConfigError(
            f"EMAIL_URL names the email provider {esp!r}; supported: "
            f"{', '.join(sorted(ANYMAIL_ESPS))} (e.g. anymail://postmark)."
        )
    module, variables = ANYMAIL_ESPS[name]
    anymail: dict = {}
    client_params: dict[str, str] = {}
    for variable, setting, required in variables:
        value = environ.get(variable, "").strip()
        if not value and variable == "AWS_REGION":
            value = environ.get("AWS_DEFAULT_REGION", "").strip()
        if not value:
            if required:
                raise ConfigError(
                    f"EMAIL_URL=anymail://{esp} needs {variable}; set it in the environment "
                    "(see the README's email providers table)."
                )
            continue
        if setting in _BOTO_PARAMS:
            client_params[setting] = value
        else:
            anymail[setting] = value
    if client_params:
        anymail["AMAZON_SES_CLIENT_PARAMS"] = client_params
    secret = environ.get("ANYMAIL_WEBHOOK_SECRET", "").strip()
    if secret:
        if ":" not in secret:
            raise ConfigError("ANYMAIL_WEBHOOK_SECRET must be user:password.")
        anymail["WEBHOOK_SECRET"] = secret
    return {"EMAIL_BACKEND": f"anymail.backends.{module}.EmailBackend", "ANYMAIL": anymail}


def email_config(
    url: str, *, default_file_path: Path, environ: Mapping[str, str] | None = None
) -> dict:
    """Translate ``EMAIL_URL`` into Django EMAIL_* settings.

    Supported: ``smtp://user:pass@host:port`` (plain, STARTTLS with ``smtp+tls``,
    implicit TLS with ``smtp+ssl`` or ``smtps``), ``consolemail://``,
    ``filemail:///path``, ``memorymail://``, and ``anymail://<esp>`` (django-anymail,
    its keys read from ``environ``, by default the process environment).
    Unset means one ``.eml`` file per message under ``default_file_path`` plus one
    console line each (``digest.core.mailbox``), as ``filemail://`` does.
    """
    environ = os.environ if environ is None else environ
    if not url:
        return {"EMAIL_BACKEND": MAILBOX_BACKEND, "EMAIL_FILE_PATH": str(default_file_path)}
    parts = urlsplit(url)
    scheme = parts.scheme
    if scheme == "consolemail":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme == "memorymail":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if scheme == "filemail":
        path = unquote(parts.path) or str(default_file_path)
        return {"EMAIL_BACKEND": MAILBOX_BACKEND, "EMAIL_FILE_PATH": path}
    if scheme == "anymail":
        esp = parts.netloc or parts.path.strip("/")
        if not esp:
            raise ConfigError("EMAIL_URL anymail:// needs a provider, e.g. anymail://postmark.")
        return anymail_config(esp, environ)
    if scheme in ("smtp", "smtp+tls", "smtp+ssl", "smtps"):
        if not parts.hostname:
            raise ConfigError("EMAIL_URL names no SMTP host.")
        try:
            port = parts.port
        except ValueError:
            raise ConfigError("EMAIL_URL has a port that is not a number.") from None
        use_ssl = scheme in ("smtp+ssl", "smtps")
        use_tls = scheme == "smtp+tls"
        query = parse_qs(parts.query)
        raw_timeout = query.get("timeout", ["30"])[0]
        try:
            timeout = float(raw_timeout)
        except ValueError:
            raise ConfigError(f"EMAIL_URL timeout={raw_timeout!r} is not a number.") from None
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": parts.hostname,
            "EMAIL_PORT": port or (465 if use_ssl else 587 if use_tls else 25),
            "EMAIL_HOST_USER": unquote(parts.username or ""),
            "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
            "EMAIL_USE_TLS": use_tls,
            "EMAIL_USE_SSL": use_ssl,
            "EMAIL_TIMEOUT": timeout,
        }
    raise ConfigError(
        f"EMAIL_URL has scheme {scheme or '(none)'!r}; expected smtp, smtp+tls, smtp+ssl, "
        "consolemail, filemail, memorymail or anymail."
    )
