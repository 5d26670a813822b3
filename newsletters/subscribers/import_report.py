"""What an import did (or, in a dry run, would do): counts for every row, and the lines
worth reading (invalid, duplicate, or kept suppressed), each with its reason.

The counts cover every row; only the first ``MAX_LISTED_LINES`` lines are kept, so a
report of a 100,000-row file stays small.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Lines listed in the report; the counts always cover every row.
MAX_LISTED_LINES = 1000


@dataclass(frozen=True)
class LineNote:
    line: int
    email: str
    reason: str
    kind: str  # "invalid", "duplicate" or "kept" (suppressed here, left suppressed)


@dataclass
class ImportReport:
    format_label: str = ""
    encoding: str = ""
    delimiter: str = ""
    dry_run: bool = False
    as_pending: bool = False
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    invalid: int = 0
    suppressed: int = 0  # of new + updated: stored in a do-not-mail state
    confirmations: int = 0  # confirmation emails queued (as_pending)
    notes: list[LineNote] = field(default_factory=list)
    notes_left_off: int = 0
    unknown_topics: set[str] = field(default_factory=set)

    @property
    def rows(self) -> int:
        return self.new + self.updated + self.unchanged + self.duplicates + self.invalid

    def note(self, *, line: int, email: str, reason: str, kind: str) -> None:
        if len(self.notes) < MAX_LISTED_LINES:
            self.notes.append(LineNote(line=line, email=email[:254], reason=reason, kind=kind))
        else:
            self.notes_left_off += 1

    def summary(self) -> str:
        """One line: what happened (or would happen, in a dry run) to every row."""
        verb = "would be" if self.dry_run else "were"
        text = (
            f"{self.rows} rows ({self.format_label}, {self.encoding}): {self.new} new, "
            f"{self.updated} updated, {self.unchanged} unchanged, "
            f"{self.duplicates} duplicates, {self.invalid} invalid"
        )
        extra = []
        if self.suppressed:
            extra.append(f"{self.suppressed} {verb} stored suppressed (never mailed)")
        if self.as_pending:
            extra.append(f"{self.confirmations} confirmation emails {verb} sent")
        if self.dry_run:
            extra.append("dry run: nothing was stored")
        return text + (" — " + "; ".join(extra) if extra else "") + "."

    def lines(self) -> list[str]:
        """One line per noted row: 'line 12: bob@@x: Enter a valid email address…'."""
        listed = [f"line {n.line}: {n.email or '(no address)'}: {n.reason}" for n in self.notes]
        if self.notes_left_off:
            listed.append(f"… and {self.notes_left_off} more lines not listed.")
        if self.unknown_topics:
            names = ", ".join(sorted(self.unknown_topics)[:20])
            listed.append(f"Topics not found here (ignored): {names}.")
        return listed
