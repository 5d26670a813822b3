"""Benchmark: the whole sending pipeline against a plain smtplib loop.

    .venv/bin/python bench/send.py [--subscribers 10000] [--small 1000] [--batch-size 100]
        [--connections 4] [--latency-ms 20] [--latency-messages 1000]

Both send to the same SMTP sink on loopback (aiosmtpd in its own process, counting
messages and discarding them). The pipeline is what a worker does, run with eager
tasks: fix the audience (one Delivery each), render the issue once, personalise each
message, claim / send / mark sent per delivery over one connection per batch. The
plain loop sends one pre-rendered message with smtplib over one connection. Peak
memory (the process's maximum RSS) is read before sending, after a send to --small
recipients and after a send to --subscribers: flat means it does not grow with the
audience. A second figure sends --latency-messages to a sink that waits --latency-ms
before answering each message: the pipeline over --connections SMTP connections per batch
(NEWSLETTER_SMTP_CONNECTIONS) against the plain loop over one.

Runs on a throwaway test database (test_<name> on PostgreSQL, in memory on SQLite).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import smtplib
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digest.settings")


def run_sink(port: int, ready, counter, delay: float = 0.0, in_flight=None) -> None:
    """An SMTP server that accepts and counts messages, keeping none of them; with
    ``delay`` it waits that long before answering each message (a relay's latency),
    serving every connection at once meanwhile, and records in ``in_flight`` (now, most)
    how many messages it was waiting on at once."""
    import asyncio
    import logging

    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)

    class Counting:
        async def handle_DATA(self, server, session, envelope):
            if delay:
                if in_flight is not None:
                    with in_flight.get_lock():
                        in_flight[0] += 1
                        in_flight[1] = max(in_flight[1], in_flight[0])
                await asyncio.sleep(delay)
                if in_flight is not None:
                    with in_flight.get_lock():
                        in_flight[0] -= 1
            with counter.get_lock():
                counter.value += 1
            return "250 OK"

    controller = Controller(Counting(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    while True:
        time.sleep(3600)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=1_000, help="the smaller send")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument(
        "--async-commit",
        action="store_true",
        help="NEWSLETTER_SYNCHRONOUS_COMMIT=0: do not wait for PostgreSQL's disk flush",
    )
    parser.add_argument(
        "--connections", type=int, default=4, help="NEWSLETTER_SMTP_CONNECTIONS (per batch)"
    )
    parser.add_argument("--latency-ms", type=float, default=20.0, help="the slow sink's wait")
    parser.add_argument("--latency-messages", type=int, default=1_000)
    args = parser.parse_args()

    port = free_port()
    counter = multiprocessing.Value("q", 0)
    ready = multiprocessing.Event()
    sink = multiprocessing.Process(target=run_sink, args=(port, ready, counter), daemon=True)
    sink.start()
    ready.wait(10)
    slow_port = free_port()
    slow_ready = multiprocessing.Event()
    in_flight = multiprocessing.Array("i", 2)
    slow_sink = multiprocessing.Process(
        target=run_sink,
        args=(slow_port, slow_ready, counter, args.latency_ms / 1000, in_flight),
        daemon=True,
    )
    slow_sink.start()
    slow_ready.wait(10)

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from digest.celery import app
    from newsletters.models import Delivery, Issue, Subscriber
    from newsletters.rendering import render_issue_email
    from newsletters.sending import mime
    from newsletters.sending.start import begin_issue_send
    from tests.factories import IssueFactory, IssueItemFactory

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.NEWSLETTER_BATCH_SIZE = args.batch_size
    settings.NEWSLETTER_RATE_LIMIT = 0
    settings.NEWSLETTER_SMTP_CONNECTIONS = args.connections
    settings.NEWSLETTER_SYNCHRONOUS_COMMIT = not args.async_commit
    settings.DEBUG = False  # as in production: no query log kept in memory
    app.conf.task_always_eager = True
    import logging

    for name in ("newsletters", "celery", "kombu"):
        logging.getLogger(name).setLevel(logging.ERROR)

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        print(
            f"database: {connection.vendor}, batch size {args.batch_size}, "
            f"{args.connections} SMTP connections per batch, "
            f"synchronous commit: {settings.NEWSLETTER_SYNCHRONOUS_COMMIT}"
        )
        number = iter(range(1, 1_000))

        def make_issue() -> Issue:
            issue = IssueFactory(number=next(number))
            for order in range(12):
                IssueItemFactory(issue=issue, order=order)
            return issue

        def ensure_subscribers(total: int) -> None:
            have = Subscriber.objects.count()
            now = timezone.now()
            for start in range(have, total, 2000):
                Subscriber.objects.bulk_create(
                    Subscriber(
                        email=f"bench{n}@example.org",
                        status=Subscriber.Status.ACTIVE,
                        confirmed_at=now,
                    )
                    for n in range(start, min(start + 2000, total))
                )

        cpu_used: dict[str, float] = {}

        def pipeline(total: int) -> float:
            ensure_subscribers(total)
            issue = make_issue()
            mime._render_cache.clear()
            before = counter.value
            started, cpu = time.perf_counter(), time.process_time()
            begin_issue_send(issue=issue)  # autocommit: batches run eagerly now
            elapsed = time.perf_counter() - started
            cpu_used[f"pipeline {total}"] = time.process_time() - cpu
            issue.refresh_from_db()
            sent = Delivery.objects.filter(issue=issue, status="sent").count()
            assert issue.status == Issue.Status.SENT and sent == total, (issue.status, sent)
            deadline = time.monotonic() + 10
            while counter.value - before < total and time.monotonic() < deadline:
                time.sleep(0.01)
            assert counter.value - before == total
            return elapsed

        def plain_loop(total: int, port: int = port) -> float:
            issue = Issue.objects.order_by("-number").first()
            rendered = render_issue_email(issue=issue)
            subscriber = Subscriber.objects.first()
            from newsletters.rendering import personalise

            email = mime.build_email(
                message=personalise(rendered=rendered, subscriber=subscriber),
                message_id="<bench@localhost>",
            )
            data = email.message().as_bytes(linesep="\r\n")
            before = counter.value
            started, cpu = time.perf_counter(), time.process_time()
            with smtplib.SMTP("127.0.0.1", port) as smtp:
                for n in range(total):
                    smtp.sendmail("weekly@localhost", [f"bench{n}@example.org"], data)
            elapsed = time.perf_counter() - started
            cpu_used[f"plain {total}"] = time.process_time() - cpu
            assert counter.value - before == total
            return elapsed

        def restrict_audience(total: int) -> None:
            """Pause everyone after the first ``total`` subscribers."""
            Subscriber.objects.update(is_paused=False)
            last_pk = Subscriber.objects.order_by("pk").values_list("pk", flat=True)[total - 1]
            Subscriber.objects.filter(pk__gt=last_pk).update(is_paused=True)

        def peak_rss_mib() -> float:
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        n, small = args.subscribers, min(args.small, args.subscribers)
        ensure_subscribers(n)  # all rows exist before anything is measured
        rss_before = peak_rss_mib()
        restrict_audience(small)
        small_seconds = pipeline(small)
        rss_small = peak_rss_mib()
        restrict_audience(n)
        pipeline_seconds = pipeline(n)
        rss_large = peak_rss_mib()
        plain_seconds = plain_loop(n)
        pipeline_rate = n / pipeline_seconds
        plain_rate = n / plain_seconds
        print(
            f"pipeline:    {small} messages in {small_seconds:.1f} s = "
            f"{small / small_seconds:.0f} msg/s"
        )
        print(f"pipeline:    {n} messages in {pipeline_seconds:.1f} s = {pipeline_rate:.0f} msg/s")
        print(f"plain loop:  {n} messages in {plain_seconds:.1f} s = {plain_rate:.0f} msg/s")
        print(f"ratio:       {pipeline_rate / plain_rate:.2f} (pipeline / plain smtplib)")
        print(
            f"peak RSS:    {rss_before:.0f} MiB before sending, {rss_small:.0f} MiB after "
            f"sending to {small}, {rss_large:.0f} MiB after sending to {n}"
        )
        print(
            "own CPU:     "
            + ", ".join(
                f"{name}: {1000 * used / int(name.split()[1]):.2f} ms/msg"
                for name, used in cpu_used.items()
            )
        )
        latency_n = min(args.latency_messages, n)
        settings.EMAIL_PORT = slow_port
        restrict_audience(latency_n)
        slow_pipeline = pipeline(latency_n)
        most_at_once = in_flight[1]
        slow_plain = plain_loop(latency_n, port=slow_port)
        print(
            f"relay with {args.latency_ms:.0f} ms per message, {latency_n} messages: pipeline "
            f"with {args.connections} connections {latency_n / slow_pipeline:.0f} msg/s, "
            f"plain loop (one connection) {latency_n / slow_plain:.0f} msg/s, "
            f"ratio {slow_plain / slow_pipeline:.1f}x; the pipeline had up to {most_at_once} "
            "messages waiting at the sink at once"
        )
        print(
            f"load:        {os.getloadavg()[0]:.1f} (1-minute load average on "
            f"{os.cpu_count()} CPUs)"
        )
    finally:
        from newsletters.sending.lanes import close_lanes

        close_lanes()  # their database connections, before the database is dropped
        connection.creation.destroy_test_db(old_name, verbosity=0)
        sink.terminate()
        slow_sink.terminate()


if __name__ == "__main__":
    main()
