"""Settings for the digest, driven by the environment.

With no variable set the project runs on a laptop: SQLite, a Celery worker and beat
on a broker of files under var/ (``make run`` starts them with the web server), a
cache of files under var/ shared by those processes, email saved under var/mail/ (a
console line each), DEBUG on. Production sets
DATABASE_URL, REDIS_URL, EMAIL_URL, DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS
and DJANGO_DEBUG=0 (see README, "Configuration").

A bad value stops start-up with one line on stderr (SystemExit), never a
traceback: see ``digest.config.ConfigError``.
"""

from __future__ import annotations

import ipaddress
import os
from datetime import timedelta
from pathlib import Path

from digest.config import (
    ConfigError,
    database_config,
    email_config,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_str,
    env_url,
)
from digest.core.broker import (
    EAGER_BROKER_URL,
    FILESYSTEM_BROKER_URL,
    filesystem_transport_options,
)

BASE_DIR = Path(__file__).resolve().parent.parent
# Local state of the embedded default: task queue, beat schedule, cache, mail files.
VAR_DIR = Path(os.environ.get("DIGEST_VAR_DIR", "").strip() or BASE_DIR / "var")

try:
    # ---------------------------------------------------------------- core
    DEBUG = env_bool("DJANGO_DEBUG", True)
    SECRET_KEY = env_str("DJANGO_SECRET_KEY")
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [])
    if DEBUG:
        SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-do-not-use-in-production"
        ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]", "testserver"]
    else:
        if len(SECRET_KEY) < 50:
            raise ConfigError(
                "DJANGO_DEBUG=0 needs DJANGO_SECRET_KEY set to a random value of 50 or more "
                "characters (python -c 'import secrets; print(secrets.token_urlsafe(64))')."
            )
        if not ALLOWED_HOSTS:
            raise ConfigError(
                "DJANGO_DEBUG=0 needs DJANGO_ALLOWED_HOSTS, e.g. news.example.org,www.example.org."
            )

    SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000")
    SITE_NAME = env_str("SITE_NAME", "Digital Policy Weekly")
    NEWSLETTER_SIGN_OFF = env_str("NEWSLETTER_SIGN_OFF", "The Editors")
    # The longest blurb auto-draft writes (the Radar's one or two sentences, readable on a
    # phone); the compile screen counts against it while an editor types.
    NEWSLETTER_BLURB_MAX_CHARS = env_int("NEWSLETTER_BLURB_MAX_CHARS", 300, minimum=40)

    # ------------------------------------------------------------ database
    DATABASES = {
        "default": database_config(
            env_str("DATABASE_URL"), default_sqlite_path=BASE_DIR / "db.sqlite3"
        )
    }

    # -------------------------------------------------------- celery/redis
    REDIS_URL = env_str("REDIS_URL")
    CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL
    # 1: every task runs inside the process that sends it, so no worker is needed, but
    # nothing runs by itself either (no beat). The test suite runs so (tests/conftest.py).
    CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
    CELERY_TASK_EAGER_PROPAGATES = True
    CELERY_RESULT_BACKEND = None
    CELERY_TASK_IGNORE_RESULT = True
    # Tasks are acknowledged after they finish, so a killed worker's task is redelivered;
    # every task is idempotent (state machines in the database) to make that safe.
    CELERY_TASK_ACKS_LATE = True
    CELERY_TASK_REJECT_ON_WORKER_LOST = True
    CELERY_WORKER_PREFETCH_MULTIPLIER = 1
    # What a task prints (the mailbox backend's line per message) is logged at INFO, not as
    # a WARNING.
    CELERY_WORKER_REDIRECT_STDOUTS_LEVEL = "INFO"
    # Retry the broker at start-up as later (today's default, stated so Celery does not warn).
    CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
    # Seconds before Redis hands an unacknowledged task (its worker died) to another worker.
    # Longer than the task time limit, so a slow but live task is never run twice at once.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1)
    }
    if not CELERY_BROKER_URL:
        # The embedded default: a broker that needs no server. Messages are files under
        # var/celery/queue/ (kombu's filesystem transport), so web, worker and beat started
        # by `make run` share them, and a message sent while no worker runs waits there.
        # Chosen over SQLAlchemy-on-SQLite: no extra dependency, and no second writer
        # competing for SQLite's single write lock with the worker and the web process.
        CELERY_BROKER_URL = EAGER_BROKER_URL if CELERY_TASK_ALWAYS_EAGER else FILESYSTEM_BROKER_URL
        CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_transport_options(VAR_DIR / "celery")
        CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "beat-schedule")
    CELERY_TASK_TIME_LIMIT = 15 * 60
    CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
    CELERY_TIMEZONE = "UTC"
    # Seconds between beat's looks for due sources and scheduled sends; the sweeper runs
    # every 30 s (every five ticks when that is shorter). Also how often the worker's
    # heartbeat is written (core/heartbeat.py).
    BEAT_TICK_SECONDS = env_int("BEAT_TICK_SECONDS", 60, minimum=1)
    CELERY_BEAT_SCHEDULE = {
        # Fan out one poll task per due source.
        "enqueue-due-sources": {
            "task": "articles.tasks.sources_enqueue_due_task",
            "schedule": timedelta(seconds=BEAT_TICK_SECONDS),
        },
        # Start sends whose scheduled time has come.
        "start-scheduled-sends": {
            "task": "newsletters.tasks.issues_start_scheduled_task",
            "schedule": timedelta(seconds=BEAT_TICK_SECONDS),
        },
        # Take over deliveries whose batch lease ran out (a dead worker, a lost task).
        "sweep-stale-deliveries": {
            "task": "newsletters.tasks.deliveries_sweep_task",
            # Every 30 s: with 30 s leases, a dead worker's deliveries go again within a minute.
            "schedule": timedelta(seconds=min(30, 5 * BEAT_TICK_SECONDS)),
        },
        # Proves beat and a worker both run: the admin warns when it stops arriving.
        "worker-heartbeat": {
            "task": "digest.core.tasks.worker_heartbeat_task",
            "schedule": timedelta(seconds=BEAT_TICK_SECONDS),
            # A heartbeat queued while no worker ran proves nothing later: drop it.
            "options": {"expires": 2 * BEAT_TICK_SECONDS},
        },
    }
    # No heartbeat for this long: the admin says scheduled sends and polls are not running.
    WORKER_HEARTBEAT_STALE_AFTER = timedelta(seconds=max(5 * BEAT_TICK_SECONDS, 60))

    # ---------------------------------------------------------------- cache
    if REDIS_URL:
        CACHES = {
            "default": {
                # Django's backend, keeping one redis client per pool (digest/cache_backends.py).
                "BACKEND": "digest.core.cache_backends.RedisCache",
                "LOCATION": REDIS_URL,
                "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "digest"),
                "TIMEOUT": 300,
            }
        }
    else:
        CACHES = {
            "default": {
                # Files under var/cache/, shared by the web process and the worker on this
                # machine: a story the worker stores clears the pages the web process cached.
                "BACKEND": "digest.core.cache_backends.FileBasedCache",  # atomic add
                "LOCATION": str(VAR_DIR / "cache"),
                "TIMEOUT": 300,
                "OPTIONS": {"MAX_ENTRIES": 5000},
            }
        }

    # ---------------------------------------------------------- reader site
    # How long an anonymous page stays in the page cache; changes that send signals
    # clear it at once (articles/caching.py), others show after this long at most.
    READER_PAGE_CACHE_SECONDS = env_int("READER_PAGE_CACHE_SECONDS", 600, minimum=1)
    # 0: every request reads the shared page version (a change shows at once in every
    # web process). A second or so saves that cache read on each cached page, at the
    # price of other processes showing a change up to that much later.
    READER_PAGE_VERSION_CHECK_SECONDS = env_float(
        "READER_PAGE_VERSION_CHECK_SECONDS", 0.0, minimum=0.0
    )
    # Searches per minute from one address (0: no limit). Search is the one page that
    # always reaches the database, so it is the one worth protecting from scrapers.
    READER_SEARCH_PER_MINUTE = env_int("READER_SEARCH_PER_MINUTE", 60, minimum=0)
    # Optional search engine (OpenSearch), http://host:9200/index-name; empty: the
    # database searches (digest/site/search_engine.py).
    SEARCH_ENGINE_URL = env_str("SEARCH_ENGINE_URL")

    # ---------------------------------------------------------------- email
    for _key, _value in email_config(
        env_str("EMAIL_URL"), default_file_path=VAR_DIR / "mail"
    ).items():
        globals()[_key] = _value
    DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Digital Policy Weekly <weekly@localhost>")
    SERVER_EMAIL = DEFAULT_FROM_EMAIL
    # Address that receives List-Unsubscribe mailto requests.
    UNSUBSCRIBE_MAILTO = env_str("UNSUBSCRIBE_MAILTO", "unsubscribe@localhost")
    # Messages per SMTP connection: big enough to amortise the handshake, small enough
    # that a crash re-examines few in-flight deliveries.
    NEWSLETTER_BATCH_SIZE = env_int("NEWSLETTER_BATCH_SIZE", 100, minimum=1)
    # SMTP connections one batch sends over at once (a thread each, PostgreSQL only):
    # a relay with real latency per message is kept busy instead of waited for.
    NEWSLETTER_SMTP_CONNECTIONS = env_int("NEWSLETTER_SMTP_CONNECTIONS", 4, minimum=1)
    # Messages per second across one worker; 0 means unlimited.
    NEWSLETTER_RATE_LIMIT = env_float("NEWSLETTER_RATE_LIMIT", 0.0, minimum=0.0)
    # Permanent failures before a subscriber is marked bounced.
    NEWSLETTER_BOUNCE_LIMIT = env_int("NEWSLETTER_BOUNCE_LIMIT", 2, minimum=1)
    # Batch leases (newsletters/sending/leases.py). A running batch owns its deliveries
    # this long and renews the lease every third of it; after a worker dies the sweeper
    # (every 30 s) takes them over once it runs out, so recovery takes under a minute.
    NEWSLETTER_LEASE_SECONDS = env_int("NEWSLETTER_LEASE_SECONDS", 30, minimum=3)
    # A queued batch task owns its deliveries this long past the time it is due: longer
    # than a queue backlog usually lasts (an expired one is queued again, harmlessly).
    NEWSLETTER_QUEUED_LEASE_SECONDS = env_int("NEWSLETTER_QUEUED_LEASE_SECONDS", 120, minimum=3)
    # How long a worker keeps trying to record an accepted message as sent through a
    # database outage before leaving it to the sweeper (which would send it again).
    NEWSLETTER_SENT_RECORD_RETRY_SECONDS = env_int(
        "NEWSLETTER_SENT_RECORD_RETRY_SECONDS", 300, minimum=1
    )
    NEWSLETTER_WEBHOOK_SECRET = env_str("NEWSLETTER_WEBHOOK_SECRET")
    # --- subscriptions & delivery
    # Subject: "<prefix> #209 – <title>".
    NEWSLETTER_SUBJECT_PREFIX = env_str("NEWSLETTER_SUBJECT_PREFIX", "Weekly")
    # Every issue's footer names the publisher's postal address (CAN-SPAM requires one in
    # bulk mail; Gmail and Yahoo look for a clear sender) and says why the reader gets it.
    # Required with DEBUG off: `manage.py check --deploy` fails without them.
    NEWSLETTER_POSTAL_ADDRESS = env_str(
        "NEWSLETTER_POSTAL_ADDRESS",
        "Digital Policy Weekly, 1 Example Street, 1200 Geneva, Switzerland" if DEBUG else "",
    )
    NEWSLETTER_REASON = env_str(
        "NEWSLETTER_REASON",
        f"You receive this because you subscribed to {SITE_NAME} at {SITE_URL}." if DEBUG else "",
    )
    # Temporary (4xx) failures before a delivery is given up as failed.
    NEWSLETTER_MAX_ATTEMPTS = env_int("NEWSLETTER_MAX_ATTEMPTS", 6, minimum=1)
    # First retry delay after a temporary failure; doubles per attempt.
    NEWSLETTER_RETRY_BACKOFF_SECONDS = env_int("NEWSLETTER_RETRY_BACKOFF_SECONDS", 60, minimum=1)
    # A relay-level failure (server unreachable, TLS/auth, 421, our sender refused)
    # pauses the whole send this long, doubling per failure in a row up to the cap; no
    # recipient is charged an attempt, so an outage of any length skips nobody.
    NEWSLETTER_RELAY_RETRY_SECONDS = env_int("NEWSLETTER_RELAY_RETRY_SECONDS", 30, minimum=1)
    NEWSLETTER_RELAY_RETRY_MAX_SECONDS = env_int(
        "NEWSLETTER_RELAY_RETRY_MAX_SECONDS", 600, minimum=1
    )
    # Subscribe form: attempts per client IP per hour, confirmation emails per address per hour.
    SUBSCRIBE_RATE_PER_IP = env_int("SUBSCRIBE_RATE_PER_IP", 20, minimum=1)
    SUBSCRIBE_RATE_PER_ADDRESS = env_int("SUBSCRIBE_RATE_PER_ADDRESS", 1, minimum=1)
    # 0: delivery state commits without waiting for PostgreSQL's disk flush (much faster
    # sends; a *database* crash may forget the last ~0.6 s of "sent" marks, so those
    # messages could go twice). Worker crashes are safe either way.
    NEWSLETTER_SYNCHRONOUS_COMMIT = env_bool("NEWSLETTER_SYNCHRONOUS_COMMIT", True)
    # --- audience: imports, click reports
    # Largest subscriber CSV an import reads (a 100,000-row Mailchimp export is ~30 MB).
    SUBSCRIBER_IMPORT_MAX_BYTES = env_int("SUBSCRIBER_IMPORT_MAX_MB", 64, minimum=1) * 1024 * 1024
    # Links in issues go through /r/<token>, counting one click per delivery and link
    # (no IP, no user agent kept). 0: links go straight to their target.
    NEWSLETTER_CLICK_TRACKING = env_bool("NEWSLETTER_CLICK_TRACKING", True)
    # A 1x1 image that reports when a message is displayed. Off by default: it tells the
    # sender when and how often someone reads, which readers do not expect; mail clients
    # that preload images (Apple Mail) make the figure unreliable anyway.
    NEWSLETTER_OPEN_TRACKING = env_bool("NEWSLETTER_OPEN_TRACKING", False)
    # Clicks this soon after a delivery are a mail filter scanning links, not a reader.
    NEWSLETTER_SCANNER_WINDOW_SECONDS = env_int("NEWSLETTER_SCANNER_WINDOW_SECONDS", 10, minimum=0)

    # ------------------------------------------------------------- fetching
    FETCH_ALLOW_PRIVATE_NETWORKS = env_bool("FETCH_ALLOW_PRIVATE_NETWORKS", False)
    FETCH_MAX_BYTES = env_int("FETCH_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
    FETCH_CONNECT_TIMEOUT = env_float("FETCH_CONNECT_TIMEOUT", 10.0, minimum=0.1)
    FETCH_TOTAL_TIMEOUT = env_float("FETCH_TOTAL_TIMEOUT", 30.0, minimum=0.1)
    FETCH_MAX_REDIRECTS = 5
    FETCH_USER_AGENT = env_str(
        "FETCH_USER_AGENT", "DigestBot/0.1 (+https://github.com/; tech-policy news digest)"
    )
    # Networks (CIDR) the fetcher may reach even though they are not public, e.g.
    # "10.1.2.0/24" for an intranet feed. FETCH_ALLOW_PRIVATE_NETWORKS=1 allows all private
    # ones except link-local and cloud metadata addresses, which only this list can open.
    FETCH_ALLOWED_NETWORKS = env_list("FETCH_ALLOWED_NETWORKS", [])
    for _cidr in FETCH_ALLOWED_NETWORKS:
        try:
            ipaddress.ip_network(_cidr, strict=False)
        except ValueError:
            raise ConfigError(
                f"FETCH_ALLOWED_NETWORKS contains {_cidr!r}, which is not a network "
                "such as 10.1.2.0/24."
            ) from None

    # ------------------------------------------------------------ ingestion
    # Longest wait between polls of a failing source (backoff doubles up to this).
    SOURCE_BACKOFF_MAX = timedelta(hours=env_int("SOURCE_BACKOFF_MAX_HOURS", 24, minimum=1))
    # A poll claimed longer ago than this is presumed dead (worker killed) and may be
    # claimed again; longer than CELERY_TASK_TIME_LIMIT so a live poll is never doubled.
    SOURCE_POLL_STALE_AFTER = timedelta(minutes=30)
    # Sources enqueued per beat tick: enough for a large newsroom each minute, small
    # enough that one tick never floods the queue after an outage.
    SOURCE_ENQUEUE_LIMIT = env_int("SOURCE_ENQUEUE_LIMIT", 200, minimum=1)
    # Article pages of one feed fetched at once: hides network latency without
    # hammering one outlet (extraction itself stays one at a time).
    INGEST_PAGE_FETCHES = env_int("INGEST_PAGE_FETCHES", 4, minimum=1)
except ConfigError as error:
    raise SystemExit(f"Configuration error: {error}") from None

# -------------------------------------------------------------- applications
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "taggit",
    "adminsortable2",
    # django-anymail: ESP backends (EMAIL_URL=anymail://<esp>) and their tracking webhooks
    "anymail",
    "axes",  # sign-in throttling (see below)
    "csp",  # the Content-Security-Policy header (see below)
    "articles",
    "newsletters",
    "digest.core",
    "digest.site",
    "digest.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it answers a locked-out login with its own page.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out sign-ins
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "digest.urls"
WSGI_APPLICATION = "digest.wsgi.application"
ASGI_APPLICATION = "digest.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "digest.core.context_processors.site",
                "digest.core.context_processors.worker_status",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ------------------------------------------------------------- i18n and time
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Zones in which event times are shown ("10.00 EST | 14.00 UTC | 16.00 CEST").
EVENT_DISPLAY_TIME_ZONES = env_list(
    "EVENT_DISPLAY_TIME_ZONES", ["America/New_York", "UTC", "Europe/Zurich"]
)

# -------------------------------------------------------------- static files
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "/media/"
MEDIA_ROOT = BASE_DIR / "media"
# Uploaded images (the compile screen's) served by Django itself: right for the embedded
# default; set MEDIA_SERVE=0 when a proxy or remote storage serves MEDIA_URL.
MEDIA_SERVE = env_bool("MEDIA_SERVE", True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# ------------------------------------------------------------------ security
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    CSRF_TRUSTED_ORIGINS = env_list(
        "DJANGO_CSRF_TRUSTED_ORIGINS", [f"https://{host}" for host in ALLOWED_HOSTS]
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # django-axes logs every sign-in at INFO; failures and lock-outs are WARNING.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

LOGIN_URL = "admin:login"

# Content-Security-Policy and login throttling, kept in their own module ("X as X" marks
# each name as a setting this module exports).
from digest.security_settings import AXES_COOLOFF_TIME as AXES_COOLOFF_TIME  # noqa: E402
from digest.security_settings import AXES_FAILURE_LIMIT as AXES_FAILURE_LIMIT  # noqa: E402
from digest.security_settings import (  # noqa: E402
    AXES_LOCKOUT_PARAMETERS as AXES_LOCKOUT_PARAMETERS,
)
from digest.security_settings import AXES_LOCKOUT_TEMPLATE as AXES_LOCKOUT_TEMPLATE  # noqa: E402
from digest.security_settings import AXES_RESET_ON_SUCCESS as AXES_RESET_ON_SUCCESS  # noqa: E402
from digest.security_settings import AXES_VERBOSE as AXES_VERBOSE  # noqa: E402
from digest.security_settings import (  # noqa: E402
    CONTENT_SECURITY_POLICY as CONTENT_SECURITY_POLICY,
)
from digest.security_settings import (  # noqa: E402
    CONTENT_SECURITY_POLICY_REPORT_ONLY as CONTENT_SECURITY_POLICY_REPORT_ONLY,
)
