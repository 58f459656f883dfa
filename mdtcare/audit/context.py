"""Who is making the change: carried to the database so that the change
triggers can attribute every row they record.

The values live in a context variable set for a request, a task or a
management command. SQLite triggers read them through functions registered
on each connection; on PostgreSQL they are copied into session settings
(``mdtcare.actor_id`` …) just before every statement that writes.
"""

from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class AuditContext:
    actor_id: str = ""
    request_id: str = ""
    source: str = ""
    # The request, when there is one: its user is read when a change is made,
    # because API token authentication happens after the middleware has run.
    request: object | None = None

    def resolved_actor_id(self) -> str:
        if self.actor_id:
            return self.actor_id
        user = getattr(self.request, "user", None) if self.request is not None else None
        if user is not None and user.is_authenticated:
            return user.pk.hex
        return ""


# AuditContext is a frozen dataclass: sharing the default instance is safe.
_current: contextvars.ContextVar[AuditContext] = contextvars.ContextVar(
    "mdtcare_audit_context",
    default=AuditContext(),  # noqa: B039
)
# Only the test database's flush may empty the append-only audit tables.
_purge_allowed: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "mdtcare_audit_purge", default=False
)


def current() -> AuditContext:
    return _current.get()


@contextlib.contextmanager
def audit_context(*, actor=None, request=None, request_id=None, source=None):
    """Set (part of) the audit context for the duration of the block.
    ``actor`` is a user; ``request`` a Django request whose user is the actor."""
    changes = {
        key: str(value)
        for key, value in {"request_id": request_id, "source": source}.items()
        if value is not None
    }
    if actor is not None:
        changes["actor_id"] = actor.pk.hex
    if request is not None:
        changes["request"] = request
    token = _current.set(replace(_current.get(), **changes))
    try:
        yield
    finally:
        _current.reset(token)


@contextlib.contextmanager
def audit_purge_allowed():
    token = _purge_allowed.set(True)
    try:
        yield
    finally:
        _purge_allowed.reset(token)


def purge_allowed() -> bool:
    return _purge_allowed.get()
