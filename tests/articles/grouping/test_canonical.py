import pytest

from articles.grouping.canonical import canonicalize_url, registrable_domain


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://Example.ORG/News/Story", "https://example.org/News/Story"),
        ("http://example.org:80/a", "http://example.org/a"),
        ("https://example.org:443/a", "https://example.org/a"),
        ("https://example.org:8443/a", "https://example.org:8443/a"),
        ("https://example.org/a#comments", "https://example.org/a"),
        ("https://example.org", "https://example.org/"),
        (
            "https://example.org/a?utm_source=rss&utm_medium=feed&id=7&UTM_Campaign=x",
            "https://example.org/a?id=7",
        ),
        ("https://example.org/a?fbclid=abc&gclid=def", "https://example.org/a"),
        ("https://example.org/a?mc_cid=1&mc_eid=2&page=2", "https://example.org/a?page=2"),
        ("https://example.org/a?b=2&a=1", "https://example.org/a?b=2&a=1"),
        ("https://user:secret@example.org/a", "https://example.org/a"),
        ("https://example.org/caf%C3%A9", "https://example.org/caf%C3%A9"),
        ("https://example.org/café", "https://example.org/caf%C3%A9"),
        ("https://bücher.example/a", "https://xn--bcher-kva.example/a"),
        ("https://example.org./a", "https://example.org/a"),
    ],
)
def test_canonical_url_spells_each_page_one_way(url, expected):
    assert canonicalize_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://Example.org:443/x/y?utm_source=a&q=hello%20world#top",
        "https://example.org/caf%C3%A9?name=a%26b",
        "http://example.org/path;params?x=1&x=2",
    ],
)
def test_canonicalisation_is_idempotent(url):
    once = canonicalize_url(url)
    assert canonicalize_url(once) == once


def test_query_values_with_reserved_characters_keep_their_meaning():
    assert (
        canonicalize_url("https://example.org/s?q=a%26b%3Dc")
        == "https://example.org/s?q=a%26b%3Dc"
    )


@pytest.mark.parametrize(
    ("host_or_url", "outlet"),
    [
        ("news.bbc.co.uk", "bbc.co.uk"),
        ("https://www.bbc.co.uk/news/article-1001", "bbc.co.uk"),
        ("theguardian.co.uk:8080", "theguardian.co.uk"),
        ("https://feeds.abc.net.au/rss", "abc.net.au"),
        ("http://smh.com.au/feed", "smh.com.au"),
        ("alice.github.io", "alice.github.io"),
        ("WWW.Example.COM.", "example.com"),
        ("Bücher.de", "xn--bcher-kva.de"),
        ("http://127.0.0.1:8000/feed", "127.0.0.1"),
        ("http://[2001:db8::1]/feed", "2001:db8::1"),
        ("localhost", "localhost"),
        ("", ""),
    ],
)
def test_registrable_domain_follows_the_public_suffix_list(host_or_url, outlet):
    assert registrable_domain(host_or_url) == outlet


def test_two_co_uk_publishers_are_two_outlets():
    assert registrable_domain("https://www.bbc.co.uk/") != registrable_domain(
        "https://www.theguardian.co.uk/"
    )


def test_two_ip_addressed_sites_are_two_outlets():
    assert registrable_domain("http://127.0.0.1/") != registrable_domain("http://127.0.0.2/")
