"""The extraction-quality evaluation: its metric is the benchmark's, and the pipeline, run
for real (loopback server, poll, extraction, cleaning, storage), meets its bar."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _evaluation_module():
    path = ROOT / "bench" / "extraction_quality.py"
    spec = importlib.util.spec_from_file_location("extraction_quality", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


evaluation = _evaluation_module()


def test_shingle_metric_counts_shared_extra_and_missing_four_word_runs():
    truth = "one two three four five"  # shingles: 1-4, 2-5
    predicted = "one two three four five six"  # 1-4, 2-5, 3-6

    page = evaluation.score_page(predicted, truth)

    assert (page.true_positive, page.false_positive, page.false_negative) == (2 / 3, 1 / 3, 0)
    assert page.precision == pytest.approx(2 / 3)
    assert page.recall == 1.0
    # Case is kept and punctuation is not a token.
    assert evaluation.score_page("One, two three four", "one two three four").f1 == 0.0
    assert evaluation.score_page("one two. three four!", "one two three four").f1 == 1.0


def test_summary_averages_over_pages_leaving_out_empty_predictions_from_precision():
    perfect = evaluation.score_page("a b c d", "a b c d")
    empty = evaluation.score_page("", "a b c d")

    summary = evaluation.summarise([perfect, empty])

    assert summary.precision == 1.0  # the empty prediction is not averaged in
    assert summary.recall == 0.5
    assert summary.f1 == pytest.approx(2 * 0.5 / 1.5)


@pytest.mark.django_db(transaction=True)
def test_self_made_set_through_the_real_pipeline_beats_bare_trafilatura(settings):
    settings.FETCH_ALLOW_PRIVATE_NETWORKS = False
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8"]

    result = evaluation.evaluate(evaluation.self_made_outlets())

    assert result.summary("ours").f1 >= 0.99
    assert result.summary("ours").f1 > result.summary("bare").f1
    for page in result.pages:
        # Cleaning may only take away what is not story text: recall never drops.
        assert result.score("ours", page).recall >= result.score("bare", page).recall, page.name


@pytest.mark.slow
@pytest.mark.skipif(not (evaluation.ZYTE / "ground-truth.json").is_file(), reason="no zyte-dev")
@pytest.mark.django_db(transaction=True)
def test_zyte_development_set_through_the_real_pipeline(settings):
    settings.FETCH_ALLOW_PRIVATE_NETWORKS = False
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8"]

    result = evaluation.evaluate(evaluation.zyte_outlets(evaluation.ZYTE))

    assert len(result.pages) == 88
    assert result.removed_but_true() == []
    assert result.summary("ours").f1 >= 0.970
    for page in result.pages:
        ours, bare = result.score("ours", page), result.score("bare", page)
        assert ours.f1 >= bare.f1 - 0.02, page.url
