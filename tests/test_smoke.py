import pytest


def test_trafilatura_imports_with_lxml_html_clean():
    import trafilatura

    html = "<html><body><article><p>" + "Policy text. " * 40 + "</p></article></body></html>"
    assert "Policy text." in trafilatura.extract(html)


@pytest.mark.django_db
def test_home_page_answers(client):
    response = client.get("/")
    assert response.status_code == 200
