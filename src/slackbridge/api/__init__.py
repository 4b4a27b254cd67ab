"""The product REST API under ``/api/v1``: a front end, like the CLI (``app.py`` composes it)."""
