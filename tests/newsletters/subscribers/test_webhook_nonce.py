"""The webhook's replay nonce lives where every process sees it: the cache files under
var/cache/ in the embedded default, Redis in production. Each check signs one request
and offers it from two separate processes (never this test's in-memory cache)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import pytest

from tests.digest.test_config import CONFIG_VARIABLES, PROJECT_DIR

OFFER = """
import sys, django
django.setup()
from django.conf import settings
from newsletters.subscribers.webhooks import WebhookReplayed, verify_webhook, webhook_signature
timestamp, body = sys.argv[1], b'{"events": []}'
signature = webhook_signature(secret="s3cret", timestamp=timestamp, body=body)
try:
    verify_webhook(secret="s3cret", timestamp=timestamp, signature=signature, body=body)
except WebhookReplayed:
    print("replayed", settings.CACHES["default"]["BACKEND"])
else:
    print("accepted", settings.CACHES["default"]["BACKEND"])
"""


def offer(timestamp: str, **env_overrides: str) -> list[str]:
    """Offer one signed request from a fresh process; its answer and its cache backend."""
    env = {key: value for key, value in os.environ.items() if key not in CONFIG_VARIABLES}
    env.pop("CACHE_KEY_PREFIX", None)
    env.update(DJANGO_SETTINGS_MODULE="digest.settings", **env_overrides)
    result = subprocess.run(
        [sys.executable, "-c", OFFER, timestamp],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_embedded_default_refuses_a_replay_from_another_process(tmp_path):
    """Nothing set: two processes on one machine share the nonce through var/cache/."""
    timestamp = str(int(time.time()))
    first = offer(timestamp, DIGEST_VAR_DIR=str(tmp_path))
    replay = offer(timestamp, DIGEST_VAR_DIR=str(tmp_path))
    fresh = offer(str(int(timestamp) + 1), DIGEST_VAR_DIR=str(tmp_path))

    assert first == ["accepted", "digest.core.cache_backends.FileBasedCache"]
    assert replay[0] == "replayed"
    assert fresh[0] == "accepted"
    assert any((tmp_path / "cache").iterdir())


@pytest.mark.redis
def test_production_refuses_a_replay_from_another_process_through_redis(tmp_path):
    """REDIS_URL set: two processes (as two web hosts would be) with no shared files."""
    timestamp = str(int(time.time()))
    shared = {"REDIS_URL": os.environ["REDIS_URL"], "CACHE_KEY_PREFIX": f"nonce-{uuid.uuid4()}"}
    first = offer(timestamp, DIGEST_VAR_DIR=str(tmp_path / "host-a"), **shared)
    replay = offer(timestamp, DIGEST_VAR_DIR=str(tmp_path / "host-b"), **shared)

    assert first == ["accepted", "digest.core.cache_backends.RedisCache"]
    assert replay[0] == "replayed"
