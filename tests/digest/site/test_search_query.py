"""The query language: one parse, written out for websearch_to_tsquery and for FTS5."""

from __future__ import annotations

import pytest

from digest.site.search_query import Term, parse_query, to_fts5, to_websearch


def test_words_phrases_exclusions_and_or():
    parsed = parse_query('ai "data transfer" -fine or chips')
    assert parsed.groups == (
        (Term(("ai",)), Term(("data", "transfer")), Term(("fine",), excluded=True)),
        (Term(("chips",)),),
    )
    assert parsed.words() == ["ai", "data", "transfer", "chips"]


def test_websearch_text_keeps_the_meaning():
    assert to_websearch(parse_query('ai "data transfer" -fine OR chips')) == (
        'ai "data transfer" -fine or chips'
    )
    assert to_websearch(parse_query('-"on chips" rules')) == '-"on chips" rules'


def test_fts5_expression_quotes_every_word():
    assert to_fts5(parse_query('ai "data transfer" -fine or chips')) == (
        '("ai" AND "data transfer" NOT "fine") OR ("chips")'
    )


def test_group_of_only_exclusions_is_dropped():
    assert parse_query("-chips").is_empty
    assert to_fts5(parse_query("-chips or tariffs")) == '("tariffs")'


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("title:secret", '("title:secret")'),
        ("NEAR(a b)", '("NEAR(a" AND "b)")'),
        ("chip*", '("chip*")'),
        ('say "unterminated', '("say" AND "unterminated")'),
        ('a"b', '("a" AND "b")'),
        ("!!! ---", ""),
        ("or or or", ""),
        ("AND NOT", '("AND" AND "NOT")'),
    ],
)
def test_fts5_syntax_in_a_query_stays_literal(query, expected):
    assert to_fts5(parse_query(query)) == expected


def test_the_word_or_inside_quotes_is_a_word():
    parsed = parse_query('"or"')
    assert parsed.groups == ((Term(("or",)),),)
    assert to_websearch(parsed) == '"or"'
