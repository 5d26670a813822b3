"""Configuration from the environment: parsers, and start-up refusing bad values."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from digest.config import (
    ConfigError,
    database_config,
    email_config,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_url,
)

PROJECT_DIR = Path(__file__).resolve().parents[2]
SQLITE_DEFAULT = Path("/srv/digest/db.sqlite3")
MAIL_DEFAULT = Path("/srv/digest/var/mail")
PRODUCTION_SECRET = "prod-" + "k3y" * 20
CONFIG_VARIABLES = (
    "DATABASE_URL",
    "DJANGO_DEBUG",
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "EMAIL_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CELERY_TASK_ALWAYS_EAGER",
    "DIGEST_VAR_DIR",
    "NEWSLETTER_POSTAL_ADDRESS",
    "NEWSLETTER_REASON",
)
SENDER_IDENTITY = {
    "NEWSLETTER_POSTAL_ADDRESS": "Digest, 1 Example Street, 1200 Geneva, Switzerland",
    "NEWSLETTER_REASON": "You receive this because you subscribed at digest.example.org.",
}


def run_manage(*args: str, **env_overrides: str) -> subprocess.CompletedProcess:
    """Run manage.py in a fresh interpreter with the configuration variables replaced."""
    env = {key: value for key, value in os.environ.items() if key not in CONFIG_VARIABLES}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


# ------------------------------------------------------------------ start-up


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param({"DATABASE_URL": "mysql://app@db/digest"}, "scheme 'mysql'", id="scheme"),
        pytest.param({"DATABASE_URL": "localhost/digest"}, "scheme '(none)'", id="no-scheme"),
        pytest.param(
            {"DATABASE_URL": "postgres://app@db:five432/digest"}, "port", id="port-not-number"
        ),
        pytest.param(
            {"DATABASE_URL": "postgres://app@db:99999/digest"}, "port", id="port-out-of-range"
        ),
        pytest.param({"DATABASE_URL": "postgres://app@db:5432/"}, "names no database", id="no-db"),
        pytest.param({"DJANGO_DEBUG": "0"}, "DJANGO_SECRET_KEY", id="production-no-secret"),
        pytest.param(
            {"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "short"},
            "DJANGO_SECRET_KEY",
            id="production-short-secret",
        ),
        pytest.param(
            {"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": PRODUCTION_SECRET},
            "DJANGO_ALLOWED_HOSTS",
            id="production-no-hosts",
        ),
        pytest.param({"DJANGO_DEBUG": "maybe"}, "not a boolean", id="bad-boolean"),
        pytest.param({"EMAIL_URL": "carrier-pigeon://loft"}, "EMAIL_URL", id="email-scheme"),
        pytest.param(
            {"EMAIL_URL": "anymail://postmark"}, "POSTMARK_SERVER_TOKEN", id="esp-without-key"
        ),
        pytest.param({"EMAIL_URL": "anymail://pigeonpost"}, "supported", id="unknown-esp"),
        pytest.param({"NEWSLETTER_BATCH_SIZE": "lots"}, "whole number", id="bad-integer"),
        pytest.param({"SITE_URL": "news.example.org"}, "absolute http(s) URL", id="site-url"),
        pytest.param(
            {
                "DJANGO_DEBUG": "0",
                "DJANGO_SECRET_KEY": PRODUCTION_SECRET,
                "DJANGO_ALLOWED_HOSTS": "digest.example.org",
                "DJANGO_HSTS_SECONDS": "a year",
            },
            "DJANGO_HSTS_SECONDS",
            id="bad-production-only-integer",
        ),
    ],
)
def test_bad_configuration_stops_startup_with_one_line(overrides, expected):
    result = run_manage("check", **overrides)

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Configuration error:")
    assert expected in lines[0]


def test_production_settings_pass_the_deploy_check():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=PRODUCTION_SECRET,
        DJANGO_ALLOWED_HOSTS="digest.example.org",
        **SENDER_IDENTITY,
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_refuses_production_without_the_senders_address_and_reason():
    result = run_manage(
        "check",
        "--deploy",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=PRODUCTION_SECRET,
        DJANGO_ALLOWED_HOSTS="digest.example.org",
    )

    assert result.returncode != 0
    assert "newsletters.E001" in result.stderr and "NEWSLETTER_POSTAL_ADDRESS" in result.stderr
    assert "newsletters.E002" in result.stderr


def test_no_variables_means_debug_sqlite_and_a_filesystem_broker():
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, "
        "s.EMAIL_BACKEND, s.CELERY_BROKER_URL, s.CACHES['default']['BACKEND'])"
    )
    env = {key: value for key, value in os.environ.items() if key not in CONFIG_VARIABLES}
    env["DJANGO_SETTINGS_MODULE"] = "digest.settings"
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "django.db.backends.sqlite3",
        "False",
        "digest.core.mailbox.EmailBackend",
        "filesystem://localhost/",
        "digest.core.cache_backends.FileBasedCache",
    ]


# ------------------------------------------------------------ env readers


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("Yes", True), ("off", False)])
def test_env_bool_reads_common_words(monkeypatch, raw, expected):
    monkeypatch.setenv("FLAG", raw)

    assert env_bool("FLAG", not expected) is expected


def test_env_bool_unset_gives_default(monkeypatch):
    monkeypatch.delenv("FLAG", raising=False)

    assert env_bool("FLAG", True) is True


def test_env_int_below_minimum_is_refused(monkeypatch):
    monkeypatch.setenv("BATCH", "0")

    with pytest.raises(ConfigError, match="BATCH=0 must be at least 1"):
        env_int("BATCH", 100, minimum=1)


def test_env_float_refuses_words(monkeypatch):
    monkeypatch.setenv("RATE", "fast")

    with pytest.raises(ConfigError, match="not a number"):
        env_float("RATE", 1.0)


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("HOSTS", " a.example.org, ,b.example.org ,")

    assert env_list("HOSTS", []) == ["a.example.org", "b.example.org"]


def test_env_url_drops_the_trailing_slash(monkeypatch):
    monkeypatch.setenv("SITE_URL", " https://news.example.org/ ")

    assert env_url("SITE_URL", "http://127.0.0.1:8000") == "https://news.example.org"


@pytest.mark.parametrize("raw", ["ftp://news.example.org", "https://", "https://x.org/?a=1"])
def test_env_url_refuses_what_cannot_prefix_a_link(monkeypatch, raw):
    monkeypatch.setenv("SITE_URL", raw)

    with pytest.raises(ConfigError, match="SITE_URL"):
        env_url("SITE_URL", "http://127.0.0.1:8000")


# ----------------------------------------------------------- DATABASE_URL


def test_database_url_unset_means_sqlite_file_in_project():
    config = database_config("", default_sqlite_path=SQLITE_DEFAULT)

    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == str(SQLITE_DEFAULT)


def test_database_url_postgres_parts():
    config = database_config(
        "postgres://digest:s%40cret@db.internal:6543/newsroom", default_sqlite_path=SQLITE_DEFAULT
    )

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.internal", 6543, "newsroom")
    assert (config["USER"], config["PASSWORD"]) == ("digest", "s@cret")
    assert config["CONN_HEALTH_CHECKS"] is True


def test_database_url_sqlite_absolute_path():
    config = database_config("sqlite:////srv/data/digest.db", default_sqlite_path=SQLITE_DEFAULT)

    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == "/srv/data/digest.db"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis://127.0.0.1/0", "scheme 'redis'"),
        ("postgres://db:port/name", "port"),
        ("postgres://db:0/name", "port"),
        ("postgres://db:5432", "names no database"),
    ],
)
def test_database_url_errors_name_the_problem(url, message):
    with pytest.raises(ConfigError, match=message):
        database_config(url, default_sqlite_path=SQLITE_DEFAULT)


# -------------------------------------------------------------- EMAIL_URL


def test_email_url_unset_writes_files_under_var_mail():
    config = email_config("", default_file_path=MAIL_DEFAULT)

    assert config == {
        "EMAIL_BACKEND": "digest.core.mailbox.EmailBackend",
        "EMAIL_FILE_PATH": str(MAIL_DEFAULT),
    }


def test_email_url_plain_smtp_defaults_to_port_25():
    config = email_config("smtp://mailpit", default_file_path=MAIL_DEFAULT)

    assert config["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (config["EMAIL_HOST"], config["EMAIL_PORT"]) == ("mailpit", 25)
    assert (config["EMAIL_USE_TLS"], config["EMAIL_USE_SSL"]) == (False, False)


def test_email_url_starttls_with_credentials_and_timeout():
    config = email_config(
        "smtp+tls://news%40example.org:p%2Fss@smtp.example.org:2525?timeout=7.5",
        default_file_path=MAIL_DEFAULT,
    )

    assert (config["EMAIL_HOST"], config["EMAIL_PORT"]) == ("smtp.example.org", 2525)
    assert config["EMAIL_HOST_USER"] == "news@example.org"
    assert config["EMAIL_HOST_PASSWORD"] == "p/ss"
    assert (config["EMAIL_USE_TLS"], config["EMAIL_USE_SSL"]) == (True, False)
    assert config["EMAIL_TIMEOUT"] == 7.5


@pytest.mark.parametrize("scheme", ["smtps", "smtp+ssl"])
def test_email_url_implicit_tls_defaults_to_port_465(scheme):
    config = email_config(f"{scheme}://smtp.example.org", default_file_path=MAIL_DEFAULT)

    assert config["EMAIL_PORT"] == 465
    assert (config["EMAIL_USE_TLS"], config["EMAIL_USE_SSL"]) == (False, True)


def test_email_url_starttls_defaults_to_port_587():
    config = email_config("smtp+tls://smtp.example.org", default_file_path=MAIL_DEFAULT)

    assert config["EMAIL_PORT"] == 587


def test_email_url_filemail_uses_given_path_or_default():
    given = email_config("filemail:///tmp/outbox", default_file_path=MAIL_DEFAULT)
    default = email_config("filemail://", default_file_path=MAIL_DEFAULT)

    assert given["EMAIL_FILE_PATH"] == "/tmp/outbox"
    assert default["EMAIL_FILE_PATH"] == str(MAIL_DEFAULT)
    assert given["EMAIL_BACKEND"] == "digest.core.mailbox.EmailBackend"


def test_email_url_memory_and_console_backends():
    memory = email_config("memorymail://", default_file_path=MAIL_DEFAULT)
    console = email_config("consolemail://", default_file_path=MAIL_DEFAULT)

    assert memory["EMAIL_BACKEND"] == "django.core.mail.backends.locmem.EmailBackend"
    assert console["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"


SES_ENV = {"AWS_ACCESS_KEY_ID": "AKIA1", "AWS_SECRET_ACCESS_KEY": "s3", "AWS_REGION": "eu-west-1"}
ESP_KEYS = {
    "mailgun": (
        {"MAILGUN_API_KEY": "key-1", "MAILGUN_SENDER_DOMAIN": "mg.example.org"},
        {"MAILGUN_API_KEY": "key-1", "MAILGUN_SENDER_DOMAIN": "mg.example.org"},
    ),
    "amazon_ses": (
        SES_ENV,
        {
            "AMAZON_SES_CLIENT_PARAMS": {
                "aws_access_key_id": "AKIA1",
                "aws_secret_access_key": "s3",
                "region_name": "eu-west-1",
            }
        },
    ),
    "postmark": ({"POSTMARK_SERVER_TOKEN": "pm-1"}, {"POSTMARK_SERVER_TOKEN": "pm-1"}),
    "sendgrid": ({"SENDGRID_API_KEY": "SG.1"}, {"SENDGRID_API_KEY": "SG.1"}),
    "brevo": ({"BREVO_API_KEY": "xkeysib-1"}, {"BREVO_API_KEY": "xkeysib-1"}),
}


@pytest.mark.parametrize("esp", sorted(ESP_KEYS))
def test_email_url_anymail_reads_each_providers_keys_from_the_environment(esp):
    from django.utils.module_loading import import_string

    environ, expected = ESP_KEYS[esp]

    config = email_config(f"anymail://{esp}", default_file_path=MAIL_DEFAULT, environ=environ)

    assert config["EMAIL_BACKEND"] == f"anymail.backends.{esp}.EmailBackend"
    assert config["ANYMAIL"] == expected
    # The backend is installed (django-anymail, and boto3 for Amazon SES).
    assert import_string(config["EMAIL_BACKEND"]).__name__ == "EmailBackend"


@pytest.mark.parametrize(
    ("esp", "environ", "missing"),
    [
        ("mailgun", {}, "MAILGUN_API_KEY"),
        ("ses", {"AWS_ACCESS_KEY_ID": "A", "AWS_REGION": "eu-west-1"}, "AWS_SECRET_ACCESS_KEY"),
        ("amazon_ses", {"AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "s"}, "AWS_REGION"),
        ("postmark", {"POSTMARK_SERVER_TOKEN": "  "}, "POSTMARK_SERVER_TOKEN"),
        ("sendgrid", {}, "SENDGRID_API_KEY"),
        ("brevo", {}, "BREVO_API_KEY"),
    ],
)
def test_email_url_anymail_without_its_key_names_the_variable(esp, environ, missing):
    with pytest.raises(ConfigError, match=f"anymail://{esp} needs {missing}"):
        email_config(f"anymail://{esp}", default_file_path=MAIL_DEFAULT, environ=environ)


def test_email_url_anymail_aliases_and_webhook_secret():
    environ = {
        "AWS_ACCESS_KEY_ID": "A",
        "AWS_SECRET_ACCESS_KEY": "s",
        "AWS_DEFAULT_REGION": "us-east-1",
        "ANYMAIL_WEBHOOK_SECRET": "hook:pa55",
    }

    config = email_config("anymail://ses", default_file_path=MAIL_DEFAULT, environ=environ)

    assert config["EMAIL_BACKEND"] == "anymail.backends.amazon_ses.EmailBackend"
    assert config["ANYMAIL"]["AMAZON_SES_CLIENT_PARAMS"]["region_name"] == "us-east-1"
    assert config["ANYMAIL"]["WEBHOOK_SECRET"] == "hook:pa55"
    with pytest.raises(ConfigError, match="user:password"):
        email_config(
            "anymail://brevo",
            default_file_path=MAIL_DEFAULT,
            environ={"BREVO_API_KEY": "k", "ANYMAIL_WEBHOOK_SECRET": "nocolon"},
        )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("smtp://", "no SMTP host"),
        ("smtp://mail:twentyfive", "port that is not a number"),
        ("smtp://mail?timeout=soon", "timeout='soon'"),
        ("anymail://", "needs a provider"),
        ("anymail://pigeonpost", "supported: amazon_ses, brevo, mailgun, postmark, sendgrid"),
        ("imap://mail", "scheme 'imap'"),
    ],
)
def test_email_url_errors_name_the_problem(url, message):
    with pytest.raises(ConfigError, match=message):
        email_config(url, default_file_path=MAIL_DEFAULT)


# ------------------------------------------------------------ compose file


def compose_environment(service: str) -> dict[str, str]:
    """A service's environment from docker-compose.yml, ``${VAR:-default}`` resolved."""
    import yaml

    compose = yaml.safe_load((PROJECT_DIR / "docker-compose.yml").read_text())
    environment = compose["services"][service]["environment"]
    given = {"DJANGO_SECRET_KEY": PRODUCTION_SECRET}

    def resolve(value: str) -> str:
        def substitute(match: re.Match) -> str:
            name, operator, default = match[1], match[2], match[3]
            if name in given:
                return given[name]
            return default if operator == ":-" else ""

        return re.sub(r"\$\{(\w+)(?:(:[-?])([^}]*))?\}", substitute, value)

    return {key: resolve(str(value)) for key, value in environment.items()}


@pytest.mark.parametrize("service", ["web", "worker", "beat", "migrate"])
def test_compose_services_share_one_production_configuration(service):
    environment = compose_environment(service)

    assert environment == compose_environment("web")
    assert environment["DJANGO_DEBUG"] == "0"
    assert environment["EMAIL_URL"] == "smtp://mailpit:1025"


def test_compose_configuration_passes_the_deploy_check():
    result = run_manage("check", "--deploy", "--fail-level", "ERROR", **compose_environment("web"))

    assert result.returncode == 0, result.stderr
    # The one expected warning: compose serves plain HTTP on localhost.
    assert "security.W008" in result.stderr
    assert "System check identified 1 issue" in result.stdout + result.stderr


# ------------------------------------------------------------ beat schedule


def test_beat_schedule_names_only_registered_tasks(settings):
    from digest.celery import app

    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert scheduled, "the beat schedule is empty"
    assert scheduled <= set(app.tasks), scheduled - set(app.tasks)
