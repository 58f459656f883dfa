"""The OpenAPI schema's generic errors: every operation can answer 400 (an
invalid filter or body), 401 (not logged in), 403 (no role, or no second
factor), 404 (not found, or outside the user's networks) and 429
(throttled); a write also 415 (not JSON). drf-spectacular documents only what each view declares, so
this hook adds the rest, each with the JSON body the API sends
(``mdtcare/api/errors.py``, and ``mdtcare/core/views.py`` for what Django
answers before DRF)."""

from __future__ import annotations

ERROR_SCHEMA = {
    "description": (
        'An error: {"detail": "…"}, or the messages of each field that was '
        'refused ({"field": ["…"]}).'
    ),
    "anyOf": [
        {
            "type": "object",
            "properties": {"detail": {"type": "string"}},
            "required": ["detail"],
        },
        {
            "type": "object",
            "additionalProperties": {
                "anyOf": [
                    {"type": "array", "items": {}},
                    {"type": "object"},
                    {"type": "string"},
                ]
            },
        },
        {"type": "array", "items": {"type": "string"}},
    ],
}

GENERIC = {
    "400": "Invalid: the messages say which filter or field to correct.",
    "401": "Not logged in: no session or token.",
    "403": "Not allowed: the user's role, or a second factor not given.",
    "404": "Not found, or outside the user's networks (never told apart).",
    "429": "Too many requests: try again later.",
}
WRITES = {
    "415": "The body is not JSON (files are sent as multipart/form-data).",
}
WRITE_METHODS = {"post", "put", "patch", "delete"}


def generic_errors(result, generator, request, public):
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS)."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    reference = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            statuses = dict(GENERIC)
            if method in WRITE_METHODS:
                statuses.update(WRITES)
            responses = operation["responses"]
            # An error is rendered like the operation's answers (e.g. the FHIR
            # Bundle's application/fhir+json), or as plain JSON.
            media_types = {"application/json"} | {
                media_type
                for response in responses.values()
                for media_type in response.get("content", {})
                if media_type.endswith("json")
            }
            for status, description in statuses.items():
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {
                            media_type: {"schema": reference} for media_type in sorted(media_types)
                        },
                    },
                )
    return result
