"""docs/api.md, rendered from the API's OpenAPI document (``scripts/gen_api_docs.py`` writes it;
a test fails when the committed file differs from what the code would render)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slackbridge.api.docs_guide import GUIDE
from slackbridge.api.errors import ERROR_CODES

__all__ = ["render_api_markdown"]

_METHODS = ("get", "post", "put", "patch", "delete")


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _type(schema: Mapping[str, Any]) -> str:
    """A short type for a schema: ``string``, ``Persona | null``, ``array of object``…"""
    if "$ref" in schema:
        name = _ref_name(schema["$ref"])
        return f"[{name}](#{name.lower()})"
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " \\| ".join(_type(option) for option in schema[key])
    kind = schema.get("type")
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    if "enum" in schema:
        return " \\| ".join(f"`{value}`" for value in schema["enum"])
    if "const" in schema:
        return f"`{schema['const']}`"
    if kind == "string" and schema.get("format") == "binary":
        return "file"
    return str(kind or "any")


def _constraints(schema: Mapping[str, Any]) -> str:
    options = [schema] + [o for o in schema.get("anyOf", []) if isinstance(o, Mapping)]
    notes = []
    for option in options:
        if "pattern" in option:
            notes.append(f"pattern `{option['pattern']}`")
        for key, label in (("maxLength", "max length"), ("minLength", "min length")):
            if key in option:
                notes.append(f"{label} {option[key]}")
        if "maxItems" in option:
            notes.append(f"at most {option['maxItems']} items")
    examples = schema.get("examples")
    if examples:
        notes.append(f"e.g. `{examples[0]}`")
    return "; ".join(notes)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _fields(schema: Mapping[str, Any]) -> list[str]:
    properties: Mapping[str, Any] = schema.get("properties", {})
    if not properties:
        return ["(no fields)", ""]
    required = set(schema.get("required", []))
    lines = ["| field | type | required | description |", "|---|---|---|---|"]
    for name, field in properties.items():
        description = field.get("description", "")
        extra = _constraints(field)
        if "default" in field and field["default"] is not None and name not in required:
            extra = "; ".join(x for x in (extra, f"default `{field['default']}`") if x)
        text = " — ".join(x for x in (description, extra) if x)
        lines.append(
            f"| `{name}` | {_type(field)} | {'yes' if name in required else ''} | {_cell(text)} |"
        )
    return [*lines, ""]


def _parameters(operation: Mapping[str, Any]) -> list[str]:
    params = operation.get("parameters", [])
    if not params:
        return []
    lines = [
        "Parameters:",
        "",
        "| name | in | type | required | description |",
        "|---|---|---|---|---|",
    ]
    for param in params:
        schema = param.get("schema", {})
        text = " — ".join(x for x in (param.get("description", ""), _constraints(schema)) if x)
        required = "yes" if param.get("required") else ""
        lines.append(
            f"| `{param['name']}` | {param['in']} | {_type(schema)} | {required} | {_cell(text)} |"
        )
    return [*lines, ""]


def _body(operation: Mapping[str, Any]) -> list[str]:
    body = operation.get("requestBody")
    if not body:
        return []
    lines = ["Request body:", ""]
    for media, content in body.get("content", {}).items():
        schema = content.get("schema", {})
        if "$ref" in schema:
            lines.append(f"- `{media}`: {_type(schema)}")
        elif schema.get("properties"):
            lines.append(f"- `{media}` with the fields:")
            lines.append("")
            lines.extend(_fields(schema))
        else:
            lines.append(f"- `{media}`: {_type(schema)} ({schema.get('description', 'any')})")
    return [*lines, ""]


def _responses(operation: Mapping[str, Any]) -> list[str]:
    lines = ["Responses:", ""]
    for status, response in operation.get("responses", {}).items():
        schema = response.get("content", {}).get("application/json", {}).get("schema", {})
        shape = f" → {_type(schema)}" if schema else ""
        lines.append(f"- **{status}**{shape}: {_cell(response.get('description', ''))}")
    return [*lines, ""]


def _operations(spec: Mapping[str, Any]) -> list[str]:
    by_tag: dict[str, list[tuple[str, str, Mapping[str, Any]]]] = {}
    for path, item in spec.get("paths", {}).items():
        for method in _METHODS:
            if method in item:
                operation = item[method]
                tag = (operation.get("tags") or ["other"])[0]
                by_tag.setdefault(tag, []).append((method.upper(), path, operation))
    lines: list[str] = []
    for tag, operations in by_tag.items():
        lines += [f"### {tag.capitalize()}", ""]
        for method, path, operation in operations:
            lines += [f"#### {operation.get('summary', path)}", "", f"`{method} /api/v1{path}`", ""]
            if operation.get("description"):
                lines += [" ".join(operation["description"].split()), ""]
            lines += _parameters(operation) + _body(operation) + _responses(operation)
    return lines


def _schemas(spec: Mapping[str, Any]) -> list[str]:
    lines = ["## Schemas", ""]
    schemas: Mapping[str, Any] = spec.get("components", {}).get("schemas", {})
    for name in sorted(schemas):
        if name in ("HTTPValidationError", "ValidationError"):
            continue
        schema = schemas[name]
        lines += [f"### {name}", ""]
        if schema.get("description"):
            lines += [" ".join(schema["description"].split()), ""]
        lines += _fields(schema)
    return lines


def _error_table() -> list[str]:
    lines = ["| code | status | meaning |", "|---|---|---|"]
    for code, (status, meaning) in sorted(ERROR_CODES.items(), key=lambda i: (i[1][0], i[0])):
        lines.append(f"| `{code}` | {status} | {_cell(meaning)} |")
    return [*lines, ""]


def render_api_markdown(spec: Mapping[str, Any]) -> str:
    """The whole of docs/api.md for ``spec`` (the API app's ``openapi()``)."""
    lines = [
        "# Product API",
        "",
        "<!-- Generated by scripts/gen_api_docs.py from the OpenAPI document; do not edit. -->",
        "",
        f"Version {spec.get('info', {}).get('version', '?')}. The machine-readable document is "
        "served at `/api/v1/openapi.json`; this page is generated from it.",
        "",
        GUIDE.strip(),
        "",
        "### Error codes",
        "",
        *_error_table(),
        "## Reference",
        "",
        *_operations(spec),
        *_schemas(spec),
    ]
    return "\n".join(lines).rstrip() + "\n"
