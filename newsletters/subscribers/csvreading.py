"""Reading an uploaded CSV file as records, whatever tool wrote it, in bounded memory.

``read_csv`` detects the encoding (a UTF-8 or UTF-16 byte-order mark, UTF-16 without
one, otherwise UTF-8 if the start of the file decodes, else Windows-1252/Latin-1, which
decodes any byte) and the separator (comma, semicolon or tab, from the header line), then
yields one ``CsvRecord`` per record with the line it starts on. Nothing is held but the
current record: a physical line longer than ``max_line_chars`` is skipped in pieces and
reported, bytes the encoding cannot read are reported for their record, and reading
stops with ``FileTooLarge`` past ``max_bytes``.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

SNIFF_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t")
# csv's own per-field limit (128 KiB by default) is process-wide; our line limit is
# tighter and per read, so a long line never reaches csv at all.
DEFAULT_MAX_LINE_CHARS = 64 * 1024
# What errors="surrogateescape" turns an undecodable byte into.
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")

ENCODING_LABELS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with BOM",
    "utf-16": "UTF-16",
    "utf-16-le": "UTF-16 LE",
    "utf-16-be": "UTF-16 BE",
    "cp1252": "Windows-1252 / Latin-1",
}


class FileTooLarge(ValueError):
    """The file is over the size limit; ``str(error)`` says so in a sentence."""


@dataclass(frozen=True)
class CsvRecord:
    line: int  # 1-based physical line the record starts on (the header is line 1)
    values: list[str]
    # Why the record cannot be trusted (undecodable bytes, an over-long line), or "".
    problem: str = ""


@dataclass
class CsvFile:
    encoding: str
    delimiter: str
    header: list[str]
    records: Iterator[CsvRecord] = field(repr=False)
    text: io.TextIOWrapper | None = field(default=None, repr=False)

    def release(self) -> None:
        """Hand the binary stream back to its owner: a text wrapper closes the stream
        under it when it is garbage-collected, so detach it first."""
        if self.text is not None:
            self.text.detach()
            self.text = None

    @property
    def encoding_label(self) -> str:
        return ENCODING_LABELS.get(self.encoding, self.encoding)


def detect_encoding(head: bytes) -> tuple[str, int]:
    """(codec name, bytes of byte-order mark to skip) for a file starting with ``head``."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", 0
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", 0
    sample = head[:4096]
    if len(sample) >= 4 and sample.count(0) >= len(sample) // 4:
        # ASCII text in UTF-16 without a BOM: every other byte is NUL.
        zeros_at_odd = sample[1::2].count(0)
        return ("utf-16-le" if zeros_at_odd > sample[0::2].count(0) else "utf-16-be"), 0
    try:
        # A multi-byte character may be cut at the end of the sample.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8", 0
    except UnicodeDecodeError:
        return "cp1252", 0


def detect_delimiter(header_line: str) -> str:
    """The separator the header line uses most (outside quotes): ',', ';' or tab."""
    unquoted = "".join(part for i, part in enumerate(header_line.split('"')) if i % 2 == 0)
    counts = {d: unquoted.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


class _Lines:
    """Physical lines of a text stream, each at most ``max_chars`` long, numbered.

    An over-long line is consumed in pieces (never held whole) and replaced by an empty
    line, its number noted in ``problems``; so are lines with undecodable bytes (kept,
    but noted). ``FileTooLarge`` once more than ``max_bytes`` were read.
    """

    def __init__(
        self, text: io.TextIOWrapper, raw: BinaryIO, *, max_chars: int, max_bytes: int | None
    ) -> None:
        self.text = text
        self.raw = raw
        self.max_chars = max_chars
        self.max_bytes = max_bytes
        self.number = 0
        self.problems: dict[int, str] = {}

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = self.text.readline(self.max_chars)
        if not line:
            raise StopIteration
        self.number += 1
        if self.max_bytes is not None and self.raw.tell() > self.max_bytes:
            raise FileTooLarge(
                f"The file is larger than the limit of {self.max_bytes // (1024 * 1024)} MB."
            )
        if len(line) >= self.max_chars and not line.endswith(("\n", "\r")):
            while True:  # skip the rest of this line, a piece at a time
                rest = self.text.readline(self.max_chars)
                if not rest or rest.endswith(("\n", "\r")):
                    break
            self.problems[self.number] = (
                f"The line is longer than {self.max_chars:,} characters; skipped."
            )
            return "\n"
        if _ESCAPED_BYTE.search(line):
            self.problems[self.number] = "The line holds bytes that are not valid text."
        return line

    def take_problem(self, first: int, last: int) -> str:
        """The first problem noted for lines ``first``…``last`` (forgetting them), or ""."""
        found = ""
        for number in range(first, last + 1):
            problem = self.problems.pop(number, "")
            found = found or problem
        return found


def read_csv(
    stream: BinaryIO,
    *,
    max_bytes: int | None = None,
    max_line_chars: int = DEFAULT_MAX_LINE_CHARS,
) -> CsvFile:
    """Open ``stream`` (binary, seekable, at its start) as a CSV file with a header line.

    Raises ``FileTooLarge`` at once if the stream is longer than ``max_bytes`` (or later,
    while reading, for a stream that grows) and ``ValueError`` for an empty file.
    """
    size = stream.seek(0, io.SEEK_END)
    stream.seek(0)
    if max_bytes is not None and size > max_bytes:
        raise FileTooLarge(
            f"The file is {size / (1024 * 1024):.0f} MB; the limit is "
            f"{max_bytes // (1024 * 1024)} MB. Split it and import the parts."
        )
    encoding, _ = detect_encoding(stream.read(SNIFF_BYTES))
    stream.seek(0)
    # surrogateescape: an undecodable byte becomes a marker character the line reader
    # reports, instead of an exception that would end the whole import.
    text = io.TextIOWrapper(stream, encoding=encoding, errors="surrogateescape", newline="")
    lines = _Lines(text, stream, max_chars=max_line_chars, max_bytes=max_bytes)
    first = next(lines, "")
    while first.strip() == "" and first:
        first = next(lines, "")
    if not first:
        text.detach()
        raise ValueError("The file is empty.")
    first = first.lstrip("\ufeff")
    delimiter = detect_delimiter(first)
    header = next(csv.reader([first], delimiter=delimiter), [])
    return CsvFile(
        encoding=encoding,
        delimiter=delimiter,
        header=[name.strip() for name in header],
        records=_records(lines, delimiter=delimiter, header_line=lines.number),
        text=text,
    )


def _records(lines: _Lines, *, delimiter: str, header_line: int) -> Iterator[CsvRecord]:
    reader = csv.reader(lines, delimiter=delimiter)
    last = header_line
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            start, last = last + 1, lines.number
            lines.take_problem(start, last)
            yield CsvRecord(line=start, values=[], problem=f"Not readable as CSV: {error}.")
            continue
        start, last = last + 1, lines.number
        problem = lines.take_problem(start, last)
        if not problem and not any(value.strip() for value in values):
            continue  # a blank line
        yield CsvRecord(line=start, values=values, problem=problem)
