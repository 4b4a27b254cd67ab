"""Write docs/api.md from the product API's OpenAPI document.

Usage: ``python scripts/gen_api_docs.py`` (rewrites the file) or ``--check`` (exit 1 when the
file is out of date, for CI).
"""

from __future__ import annotations

import sys
from pathlib import Path

from slackbridge.api.app import api_app
from slackbridge.api.docs import render_api_markdown

TARGET = Path(__file__).resolve().parent.parent / "docs" / "api.md"


def main(argv: list[str]) -> int:
    rendered = render_api_markdown(api_app.openapi())
    if "--check" in argv:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != rendered:
            print(f"{TARGET} is out of date: run python scripts/gen_api_docs.py", file=sys.stderr)
            return 1
        print(f"{TARGET} is up to date")
        return 0
    TARGET.write_text(rendered, encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
