"""docs/API.md stays true to the app (sqlite-utils' test_docs.py style): every route is
documented, and every string the API answers with appears in it verbatim."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.routing import Route

from vault.core.vault import Vault
from vault.http import contract
from vault.http.app import make_app

API_MD = (Path(__file__).parents[2] / "docs" / "API.md").read_text()


def answers() -> list[str]:
    """Every string constant in contract.py, and the JSON examples that NOT_JSON names."""
    found = [v for k, v in vars(contract).items() if k.isupper() and isinstance(v, str)]
    return found + list(contract.EXAMPLES.values())


def routes(v: Vault) -> list[str]:
    app = make_app(v)
    return [
        f"{method} {route.path}"
        for route in app.routes
        if isinstance(route, Route)
        for method in sorted(route.methods or ())
        if method != "HEAD"  # Starlette adds it to every GET
    ]


def test_there_is_something_to_check(v: Vault) -> None:
    assert len(answers()) > 30 and "Welcome {username}" in answers()
    assert "POST /upload" in routes(v) and "GET /files" in routes(v)


@pytest.mark.parametrize("text", answers())
def test_every_answer_is_documented(text: str) -> None:
    assert text in API_MD


def test_every_route_is_documented(v: Vault) -> None:
    missing = [r for r in routes(v) if f"`{r}" not in API_MD]
    assert missing == []


def test_readme_links_the_api_document_not_a_file_outside_the_repository() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert "](docs/API.md" in readme
    assert "../shared/" not in readme
