"""How close extracted text comes to the true article text: bare trafilatura vs our pipeline.

For every page of the evaluation set (tests/data/extraction: 17 article pages from
five fictional outlets with their own templates and trailers, and the true text of
each), prints token-level precision, recall and F1 of

  (a) bare ``trafilatura.extract(page, url=url)`` (plain-text output, defaults), and
  (b) the pipeline: ``extract_article`` then ``clean_body``, articles stored per
      source in order (so recurrence is learnt as it would be in production), the
      text read back from the database at the end,

and the micro-averaged figures over all pages. Tokens are case-folded words; the
scores compare multisets of tokens.

    .venv/bin/python bench/extraction_quality.py            # in-memory SQLite
    .venv/bin/python bench/extraction_quality.py --verbose  # also what was removed

The same functions back tests/articles/test_boilerplate.py, which asserts (b) >= (a).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "extraction"
_TOKEN = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Page:
    name: str
    source: str
    url: str
    html: bytes
    truth: str


@dataclass
class Score:
    true_positive: int = 0
    predicted: int = 0
    actual: int = 0

    def add(self, other: Score) -> None:
        self.true_positive += other.true_positive
        self.predicted += other.predicted
        self.actual += other.actual

    @property
    def precision(self) -> float:
        return self.true_positive / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.true_positive / self.actual if self.actual else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def tokens(text: str) -> Counter[str]:
    return Counter(_TOKEN.findall((text or "").casefold()))


def score(predicted: str, actual: str) -> Score:
    got, want = tokens(predicted), tokens(actual)
    return Score(
        true_positive=sum((got & want).values()),
        predicted=sum(got.values()),
        actual=sum(want.values()),
    )


def load_evaluation_set() -> tuple[dict[str, dict], list[Page]]:
    manifest = json.loads((DATA / "manifest.json").read_text(encoding="utf-8"))
    pages = [
        Page(
            name=entry["name"],
            source=entry["source"],
            url=entry["url"],
            html=(DATA / "pages" / f"{entry['name']}.html").read_bytes(),
            truth=(DATA / "truth" / f"{entry['name']}.txt").read_text(encoding="utf-8"),
        )
        for entry in manifest["pages"]
    ]
    return manifest["sources"], pages


def bare_texts(pages: list[Page]) -> dict[str, str]:
    import trafilatura

    return {page.name: trafilatura.extract(page.html, url=page.url) or "" for page in pages}


def pipeline_texts(
    sources: dict[str, dict], pages: list[Page]
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Run extraction and cleaning as ingestion does, storing articles; needs a database.

    Returns each page's final stored body text and what cleaning removed from it.
    """
    from articles.cleaning.extraction import extract_article
    from articles.cleaning.trailers import clean_body
    from articles.models import Article, Source

    source_rows = {
        key: Source.objects.create(
            name=value["name"],
            url=f"{value['site']}/feed.xml",
            site_url=value["site"],
            strip_patterns=value.get("strip_patterns", ""),
        )
        for key, value in sources.items()
    }
    removed: dict[str, list[str]] = {}
    article_ids: dict[str, int] = {}
    for page in pages:
        source = source_rows[page.source]
        extracted = extract_article(html=page.html, url=page.url)
        cleaned = clean_body(source=source, body_html=extracted.body_html)
        removed[page.name] = cleaned.removed
        article = Article.objects.create(
            source=source,
            canonical_url=page.url,
            title=extracted.title or page.name,
            body_html=cleaned.html,
            body_text=cleaned.text,
            published_at=extracted.published_at,
            extraction_status=Article.Extraction.EXTRACTED,
        )
        article_ids[page.name] = article.pk
    stored = dict(
        Article.objects.filter(pk__in=article_ids.values()).values_list("pk", "body_text")
    )
    return {name: stored[pk] for name, pk in article_ids.items()}, removed


def evaluate() -> dict[str, object]:
    """Score both on the whole set; the database must be ready (migrated, empty)."""
    sources, pages = load_evaluation_set()
    bare = bare_texts(pages)
    ours, removed = pipeline_texts(sources, pages)
    rows = []
    total_bare, total_ours = Score(), Score()
    for page in pages:
        bare_score, our_score = (
            score(bare[page.name], page.truth),
            score(ours[page.name], page.truth),
        )
        total_bare.add(bare_score)
        total_ours.add(our_score)
        rows.append((page, bare_score, our_score, removed[page.name]))
    return {"rows": rows, "bare": total_bare, "pipeline": total_ours}


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digest.settings")
    # A throwaway in-memory database unless one is given explicitly.
    if "--use-configured-database" not in sys.argv:
        os.environ["DATABASE_URL"] = "sqlite://:memory:"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--verbose", action="store_true", help="show what cleaning removed")
    parser.add_argument(
        "--use-configured-database",
        action="store_true",
        help="use DATABASE_URL instead of in-memory SQLite (rows are left behind)",
    )
    args = parser.parse_args()
    _setup_django()
    result = evaluate()
    header = f"{'page':48} {'bare P':>7} {'R':>6} {'F1':>6}   {'ours P':>7} {'R':>6} {'F1':>6}"
    print(header)
    print("-" * len(header))
    for page, bare, ours, removed in result["rows"]:
        print(
            f"{page.name[:48]:48} {bare.precision:7.3f} {bare.recall:6.3f} {bare.f1:6.3f}"
            f"   {ours.precision:7.3f} {ours.recall:6.3f} {ours.f1:6.3f}"
        )
        if args.verbose:
            for text in removed:
                print(f"{'':6}removed: {text[:90]}")
    print("-" * len(header))
    bare, ours = result["bare"], result["pipeline"]
    print(
        f"{'overall (micro-averaged)':48} {bare.precision:7.3f} {bare.recall:6.3f} {bare.f1:6.3f}"
        f"   {ours.precision:7.3f} {ours.recall:6.3f} {ours.f1:6.3f}"
    )
    verdict = "pipeline >= bare" if ours.f1 >= bare.f1 else "PIPELINE BELOW BARE"
    print(f"F1 bare {bare.f1:.3f}, pipeline {ours.f1:.3f}: {verdict}")


if __name__ == "__main__":
    main()
