"""The models whose every change is recorded by database triggers."""

from __future__ import annotations

_audited: dict[type, tuple[str, ...]] = {}


def audited(model=None, *, redact: tuple[str, ...] = ()):
    """Class decorator: record every insert, update and delete of this model's
    table in the change history, whatever makes it (ORM, queryset ``update()``,
    raw SQL, a data migration). Columns in ``redact`` (e.g. a password hash)
    are recorded as changed, never with their value."""

    def register(cls):
        _audited[cls] = tuple(redact)
        return cls

    return register(model) if model is not None else register


def audited_models() -> dict[type, tuple[str, ...]]:
    return dict(_audited)
