"""Precision and recall of near-duplicate grouping at each similarity threshold.

The set (tests/data/dedupe/stories.json): 20 news stories, each written up by two
outlets in their own words (the positives: 20 pairs), and every pair of
versions of different stories as negatives (760 pairs), many of them on the same
topic and naming the same companies, laws and regulators.

For each feature setting (word stems of 4, 5, 6 letters) it prints the exact
Jaccard gap between the two kinds of pair and, per threshold on the MinHash
estimate that grouping uses, how many pairs would be grouped, precision, recall.
The chosen setting and threshold are recorded in articles/dedupe.py.

    .venv/bin/python bench/dedupe_threshold.py
    .venv/bin/python bench/dedupe_threshold.py --stems 5 --from 0.12 --to 0.20
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def load_pairs() -> tuple[list[tuple[dict, dict]], list[tuple[dict, dict]]]:
    stories = json.loads((ROOT / "tests/data/dedupe/stories.json").read_text(encoding="utf-8"))
    same = [tuple(story["versions"]) for story in stories]
    different = [
        (left_version, right_version)
        for left, right in itertools.combinations(stories, 2)
        for left_version in left["versions"]
        for right_version in right["versions"]
    ]
    return same, different


def measure(
    *, stem_length: int, thresholds: list[float]
) -> tuple[list[tuple[float, int, int, float, float]], list[float], list[float], float, float]:
    """Rows (threshold, right, wrong, precision, recall) for the MinHash estimate, the
    estimated scores of both kinds of pair, and the exact-Jaccard gap for reference."""
    from articles.grouping import dedupe

    def stems_of(version: dict) -> set[str]:
        return dedupe.features(
            title=version["title"], text=version["text"], stem_length=stem_length
        )

    def exact(a: dict, b: dict) -> float:
        left, right = stems_of(a), stems_of(b)
        return len(left & right) / len(left | right)

    def estimate(a: dict, b: dict) -> float:
        return dedupe.similarity(dedupe.signature(stems_of(a)), dedupe.signature(stems_of(b)))

    same, different = load_pairs()
    same_scores = [estimate(a, b) for a, b in same]
    different_scores = [estimate(a, b) for a, b in different]
    exact_same_min = min(exact(a, b) for a, b in same)
    exact_different_max = max(exact(a, b) for a, b in different)
    rows = []
    for threshold in thresholds:
        true_positive = sum(score >= threshold for score in same_scores)
        false_positive = sum(score >= threshold for score in different_scores)
        grouped = true_positive + false_positive
        precision = true_positive / grouped if grouped else 1.0
        recall = true_positive / len(same_scores)
        rows.append((threshold, true_positive, false_positive, precision, recall))
    return rows, same_scores, different_scores, exact_same_min, exact_different_max


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stems", type=int, nargs="+", default=[4, 5, 6])
    parser.add_argument("--from", dest="low", type=float, default=0.10)
    parser.add_argument("--to", dest="high", type=float, default=0.25)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digest.settings")
    import django

    django.setup()
    from articles.grouping.dedupe import NUM_PERMUTATIONS

    # Estimates are counts of equal signature values: thresholds are multiples of 1/128.
    thresholds = [
        count / NUM_PERMUTATIONS
        for count in range(NUM_PERMUTATIONS + 1)
        if args.low - 1e-9 <= count / NUM_PERMUTATIONS <= args.high + 1e-9
    ]
    same, different = load_pairs()
    print(f"{len(same)} same-story pairs, {len(different)} different-story pairs")
    for stem_length in args.stems:
        rows, same_scores, different_scores, exact_min, exact_max = measure(
            stem_length=stem_length, thresholds=thresholds
        )
        print(
            f"\nfeatures: {stem_length}-letter word stems of title and lead; exact Jaccard: "
            f"same-story min {exact_min:.3f}, different-story max {exact_max:.3f}\n"
            f"MinHash estimate: same-story min {min(same_scores):.3f} median "
            f"{sorted(same_scores)[len(same_scores) // 2]:.3f}; "
            f"different-story max {max(different_scores):.3f}"
        )
        print(f"{'threshold':>9} {'grouped':>8} {'wrong':>6} {'precision':>9} {'recall':>7}")
        for threshold, true_positive, false_positive, precision, recall in rows:
            print(
                f"{threshold:9.3f} {true_positive + false_positive:8d} {false_positive:6d} "
                f"{precision:9.3f} {recall:7.3f}"
            )


if __name__ == "__main__":
    main()
