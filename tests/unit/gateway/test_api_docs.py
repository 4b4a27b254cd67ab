"""docs/api.md is generated from the OpenAPI document and must match it."""

from __future__ import annotations

from pathlib import Path

from slackbridge.api.app import api_app
from slackbridge.api.docs import render_api_markdown
from slackbridge.api.errors import ERROR_CODES

_DOC = Path(__file__).resolve().parents[3] / "docs" / "api.md"


def test_docs_api_md_is_up_to_date() -> None:
    rendered = render_api_markdown(api_app.openapi())
    assert _DOC.read_text(encoding="utf-8") == rendered, (
        "docs/api.md is out of date: run python scripts/gen_api_docs.py"
    )


def test_every_route_schema_and_error_code_is_documented() -> None:
    spec = api_app.openapi()
    text = render_api_markdown(spec)
    for path, item in spec["paths"].items():
        for method in item:
            assert f"`{method.upper()} /api/v1{path}`" in text
    for name in spec["components"]["schemas"]:
        if name not in ("HTTPValidationError", "ValidationError"):
            assert f"### {name}\n" in text
    for code in ERROR_CODES:
        assert f"| `{code}` |" in text


def test_every_path_with_a_parameter_documents_404() -> None:
    # A value the API can't route (a decoded newline in it) is answered 404 `not_found` by the
    # API's catch-all, whatever the route: every operation with a path parameter says so.
    spec = api_app.openapi()
    missing = [
        f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        if "{" in path
        for method, operation in item.items()
        if "404" not in operation.get("responses", {})
    ]
    assert missing == []
