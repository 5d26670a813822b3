"""Newsletter messages serialised by splicing, for the SMTP backend.

Building and serialising a MIME message with the email package was most of a send's
CPU per message (header folding, boundary search, line-by-line writing). The message of
one topic selection differs between recipients only in a few values: To, Message-ID,
Date, List-Unsubscribe and the placeholders of the rendered issue. So the message is
built and serialised once per rendered issue by Django's own code (``build_email``) with
a marker at each of those places, and cut at the markers; a recipient's message is then
the cut bytes joined with their values.

The splice is used only where it gives the same message Django would: both parts 8bit
(a part Django encodes as quoted-printable or base64, for lines over 998 bytes, is not
spliceable), every marker found intact, a plain ASCII recipient address, and values on
one line that keep every line within 998 bytes. Otherwise ``spliced_message`` returns
None and the caller builds the message the usual way.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate

from django.conf import settings

from newsletters.rendering import PersonalValues, RenderedIssue, fill_parts
from newsletters.sending.mime import build_email

# Longest value spliced into a body line (a signed link is about 150 characters).
MAX_VALUE = 700
LINE_LIMIT = 998
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
_CACHE_SIZE = 64


@dataclass(frozen=True)
class Template:
    # Even indexes: literal bytes; odd: the slot filled there, ("to",), ("message_id",),
    # ("date",), ("list_unsubscribe",), ("text", name) or ("html", name).
    pieces: tuple
    line_checks: tuple = ()


_templates: dict[int, tuple[RenderedIssue, Template | None]] = {}
_lock = threading.Lock()


def template_for(rendered: RenderedIssue, *, headers: dict[str, str]) -> Template | None:
    """The cut message of ``rendered`` (built once per rendered issue), or None if it
    cannot be spliced. ``headers`` are the recipient-independent headers."""
    entry = _templates.get(id(rendered))
    if entry is not None and entry[0] is rendered:
        return entry[1]
    with _lock:  # the lanes of a batch wait for one build rather than each making one
        entry = _templates.get(id(rendered))
        if entry is not None and entry[0] is rendered:
            return entry[1]
        if len(_templates) >= _CACHE_SIZE:
            _templates.clear()
        template = _build(rendered, headers)
        _templates[id(rendered)] = (rendered, template)
    return template


def _build(rendered: RenderedIssue, headers: dict[str, str]) -> Template | None:
    nonce = secrets.token_hex(6)
    slots: dict[str, tuple] = {}

    def marker(slot: tuple) -> str:
        text = f"SPL{nonce}X{len(slots)}X"
        slots[text] = slot
        return text

    to = f"spl{nonce}to@splice.invalid"
    message_id = f"<spl{nonce}mid@splice.invalid>"
    slots[to] = ("to",)
    slots[message_id] = ("message_id",)
    text = {name: marker(("text", name)) for name in set(rendered.text_parts[1::2])}
    html = {name: marker(("html", name)) for name in set(rendered.html_parts[1::2])}
    # In the order Django writes them: Date first, then the extra headers as given.
    fixed = {"Date": marker(("date",))}
    fixed.update({**headers, "List-Unsubscribe": marker(("list_unsubscribe",))})
    email = build_email(
        message=_Message(
            to=to,
            subject=rendered.subject,
            text=fill_parts(rendered.text_parts, text),
            html=fill_parts(rendered.html_parts, html),
            headers=fixed,
        ),
        message_id=message_id,
    )
    try:
        data = email.message().as_bytes(linesep="\r\n")
    except Exception:  # noqa: BLE001 - the usual build will raise it for each recipient
        return None
    if re.search(rb"(?i)content-transfer-encoding:\s*(quoted-printable|base64)", data):
        return None
    pattern = re.compile("|".join(re.escape(m) for m in slots).encode())
    expected = {
        to: 1,
        message_id: 1,
        **{m: rendered.text_parts[1::2].count(n) for n, m in text.items()},
        **{m: rendered.html_parts[1::2].count(n) for n, m in html.items()},
        fixed["List-Unsubscribe"]: 1,
        fixed["Date"]: 1,
    }
    found: dict[str, int] = {}
    for match in pattern.finditer(data):
        found[match.group().decode()] = found.get(match.group().decode(), 0) + 1
    if found != expected:
        return None  # a marker was folded or encoded: not spliceable
    # Lines whose values could pass the limit: (their literal length, the indexes of
    # their values among the pieces), checked per message.
    checks = []
    ordinal = 0
    for line in data.split(b"\r\n"):
        markers = pattern.findall(line)
        literal = len(line) - sum(map(len, markers))
        if literal + MAX_VALUE * len(markers) > LINE_LIMIT:
            checks.append((literal, tuple(2 * (ordinal + n) + 1 for n in range(len(markers)))))
        ordinal += len(markers)
    cut = pattern.split(data)
    for index, match in enumerate(pattern.findall(data)):
        cut.insert(2 * index + 1, slots[match.decode()])
    return Template(pieces=tuple(cut), line_checks=tuple(checks))


@dataclass(frozen=True)
class _Message:
    """What ``build_email`` reads of a ``PersonalMessage``."""

    to: str
    subject: str
    text: str
    html: str
    headers: dict[str, str]


_date: tuple[int, str] = (0, "")


def _now_header() -> str:
    global _date
    second = int(time.time())
    if _date[0] != second:
        _date = (second, formatdate(second, localtime=settings.EMAIL_USE_LOCALTIME))
    return _date[1]


def _folded_unsubscribe(value: str) -> str:
    """``List-Unsubscribe``'s value folded as the email package folds it: its addresses
    are the only places to fold, and one that does not fit the 78-character line goes on
    a line of its own (the first one too, after the field name)."""
    chunks = value.replace(", ", ",\0").split("\0")
    folded = ""
    length = len("List-Unsubscribe: ")
    for index, chunk in enumerate(chunks):
        space = 0 if index == 0 else 1
        if length + space + len(chunk) > 78:
            folded += "\r\n " + chunk
            length = 1 + len(chunk)
        else:
            folded += " " * space + chunk
            length += space + len(chunk)
    return folded


def spliced_message(
    *, rendered: RenderedIssue, values: PersonalValues, to: str, message_id: str
) -> bytes | None:
    """The serialised message for one recipient, or None if it must be built the usual
    way (see the module docstring)."""
    template = template_for(rendered, headers=values.headers)
    if template is None or not _PLAIN_ADDRESS.fullmatch(to):
        return None
    header_values = {
        ("to",): to,
        ("message_id",): message_id,
        ("date",): _now_header(),
        ("list_unsubscribe",): _folded_unsubscribe(values.headers["List-Unsubscribe"]),
    }
    out: list[bytes] = []
    pieces = template.pieces
    for index in range(0, len(pieces) - 1, 2):
        out.append(pieces[index])
        slot = pieces[index + 1]
        kind = slot[0]
        if kind == "text":
            value = values.text[slot[1]]
        elif kind == "html":
            value = values.html[slot[1]]
        else:
            value = header_values[slot]
            if not value.isascii() or len(value) > MAX_VALUE or "\n" in value.replace("\r\n ", ""):
                return None
            out.append(value.encode("ascii"))
            continue
        if len(value) > MAX_VALUE or "\n" in value or "\r" in value:
            return None
        out.append(value.encode("utf-8"))
    out.append(pieces[-1])
    for literal, indexes in template.line_checks:
        if literal + sum(len(out[i]) for i in indexes) > LINE_LIMIT:
            return None
    return b"".join(out)
