"""The claim and mark SQL of a send: one statement marks the previous message sent and
claims the next; and the commit mode of the sending connection.
"""

from __future__ import annotations

import functools
import logging
import time

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.db import connection as db_connection
from django.db.models import Case, Value, When
from django.utils import timezone

from newsletters.models import Delivery

logger = logging.getLogger(__name__)

# Once per message: the previous delivery's "sent" and the next one's claim, as one
# conditional UPDATE (one round trip, one commit). Written as SQL because building the
# same ORM UPDATE each time cost more than running it. RETURNING needs PostgreSQL or
# SQLite 3.35+, the two databases the project supports.
_SENT_AND_CLAIM_SQL = """
UPDATE {table} SET
    {status} = CASE WHEN {id} = %(sent)s THEN 'sent' ELSE 'sending' END,
    {sent_at} = CASE WHEN {id} = %(sent)s THEN %(now)s ELSE {sent_at} END,
    {claimed_at} = CASE WHEN {id} = %(sent)s THEN {claimed_at} ELSE %(now)s END,
    {attempts} = CASE WHEN {id} = %(sent)s THEN {attempts} ELSE {attempts} + 1 END,
    {message_id} = CASE WHEN {id} = %(sent)s THEN %(sent_mid)s ELSE %(claim_mid)s END,
    {error} = CASE WHEN {id} = %(sent)s THEN '' ELSE {error} END,
    {updated_at} = %(now)s
WHERE ({id} = %(sent)s AND {status} = 'sending') OR ({id} = %(claim)s AND {status} = 'pending')
RETURNING {id}
"""


@functools.lru_cache(maxsize=4)
def _sql(template: str, vendor: str) -> str:
    quote = db_connection.ops.quote_name
    names = ("status", "claimed_at", "attempts", "updated_at", "sent_at", "message_id", "error")
    return template.format(
        table=quote(Delivery._meta.db_table), id=quote("id"), **{n: quote(n) for n in names}
    )


def mark_sent_and_claim(
    *, sent: tuple[int, str] | None, claim_id: int | None, claim_message_id: str = ""
) -> bool:
    """In one statement (one commit per message): mark ``sent`` = (delivery id,
    Message-ID) sending → sent, and claim ``claim_id`` pending → sending, counting the
    attempt and recording the Message-ID it is about to go out with. Returns False if
    the claim found the delivery no longer pending."""
    sent_id, sent_message_id = sent if sent is not None else (-1, "")
    claim = claim_id if claim_id is not None else -1
    params = {
        "sent": sent_id,
        "claim": claim,
        "now": timezone.now(),
        "sent_mid": sent_message_id[:300],
        "claim_mid": claim_message_id[:300],
    }
    return claim in _returned_ids(_sql(_SENT_AND_CLAIM_SQL, db_connection.vendor), params)


def _returned_ids(sql: str, params: dict) -> set[int]:
    """Run ``sql`` (an UPDATE … RETURNING id) with named ``params``; the ids returned.

    On PostgreSQL, unless queries are being logged (DEBUG, or a test counting them), it
    goes through psycopg's own server-side binding cursor rather than Django's
    client-side quoting one: quoting the parameters into the text was most of the
    statement's CPU in this process, and the server then prepares the statement once
    per connection (after psycopg's ``prepare_threshold`` uses). Errors are Django's.
    """
    if db_connection.vendor == "postgresql" and not db_connection.queries_logged:
        import psycopg  # the PostgreSQL backend's driver: present whenever it is used

        db_connection.ensure_connection()
        db_connection.validate_no_broken_transaction()
        raw = db_connection.connection
        with db_connection.wrap_database_errors, psycopg.Cursor(raw) as cursor:
            cursor.execute(sql, params)
            return {row[0] for row in cursor.fetchall()}
    params = {**params, "now": db_connection.ops.adapt_datetimefield_value(params["now"])}
    with db_connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


def relax_commits() -> bool:
    """With NEWSLETTER_SYNCHRONOUS_COMMIT off, stop this connection's commits waiting
    for PostgreSQL's disk flush (until ``restore_commits``). True if it did."""
    if settings.NEWSLETTER_SYNCHRONOUS_COMMIT or db_connection.vendor != "postgresql":
        return False
    with db_connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
    return True


def restore_commits() -> None:
    with db_connection.cursor() as cursor:
        cursor.execute("RESET synchronous_commit")


_CLAIM_MANY_SQL = """
UPDATE {table} SET
    {status} = 'sending', {claimed_at} = %s, {attempts} = {attempts} + 1,
    {message_id} = '', {updated_at} = %s
WHERE {id} IN ({{ids}}) AND {status} = 'pending'
RETURNING {id}
"""


def claim_many(delivery_ids: list[int]) -> set[int]:
    """Claim (pending → sending, counting the attempt) every delivery among
    ``delivery_ids`` still pending, in one statement; the ids claimed."""
    if not delivery_ids:
        return set()
    stamp = db_connection.ops.adapt_datetimefield_value(timezone.now())
    sql = _sql(_CLAIM_MANY_SQL, db_connection.vendor).replace(
        "{ids}", ", ".join(["%s"] * len(delivery_ids))
    )
    with db_connection.cursor() as cursor:
        cursor.execute(sql, [stamp, stamp, *delivery_ids])
        return {row[0] for row in cursor.fetchall()}


def _mark_sent_many(sent: list[tuple[int, str]]) -> None:
    Delivery.objects.filter(pk__in=[pk for pk, _ in sent], status=Delivery.Status.SENDING).update(
        status=Delivery.Status.SENT,
        sent_at=timezone.now(),
        message_id=Case(*(When(pk=pk, then=Value(mid[:300])) for pk, mid in sent)),
        error="",
        updated_at=timezone.now(),
    )


def store_sent(sent: tuple[int, str]) -> None:
    """Record ``sent`` = (delivery id, Message-ID) as sent, retrying through a database
    outage for up to ``NEWSLETTER_SENT_RECORD_RETRY_SECONDS``: the message was accepted,
    and a "sent" lost here would send it again. Raises the last error after that (the
    delivery stays 'sending' until its lease runs out and the sweeper resends it)."""
    _retrying(lambda: mark_sent_and_claim(sent=sent, claim_id=None), what=str(sent[0]))


def store_sent_many(sent: list[tuple[int, str]]) -> None:
    """``store_sent`` for the deliveries of one ESP batch call, in one statement."""
    if sent:
        _retrying(lambda: _mark_sent_many(sent), what=f"{sent[0][0]} and {len(sent) - 1} more")


def _retrying(record, *, what: str) -> None:
    deadline = time.monotonic() + settings.NEWSLETTER_SENT_RECORD_RETRY_SECONDS
    wait = 0.5
    while True:
        try:
            record()
            return
        except (OperationalError, InterfaceError):
            if time.monotonic() + wait > deadline:
                raise
            logger.warning("Could not record delivery %s as sent; retrying", what)
            # A broken connection must be dropped before Django opens a new one.
            db_connection.close()
            time.sleep(wait)
            wait = min(wait * 2, 10.0)
