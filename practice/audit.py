"""Writing audit rows. Services call ``audit_write`` inside their own transaction."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.http import HttpRequest

from .actor import Actor
from .models import AuditLog, Practice, User


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address: REMOTE_ADDR, or behind ``TRUSTED_PROXY_COUNT`` proxies the
    address the outermost trusted proxy saw (counted from the right of X-Forwarded-For,
    since a client can put anything at its left). Sign-in throttling uses it too."""
    if request is None:
        return None
    hops = settings.TRUSTED_PROXY_COUNT
    if hops:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR") or None


def audit_write(
    *,
    practice: Practice | None,
    action: str,
    actor: Actor | User | None = None,
    obj: models.Model | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditLog:
    """Append one audit row naming ``actor``: a person (with their request's address when
    the Actor carries one) or a system job (``Actor.system(name)``). A bare user is that
    person with no address."""
    row = audit_row(practice=practice, action=action, actor=actor, obj=obj, changes=changes)
    row.save(force_insert=True)
    return row


def audit_row(
    *,
    practice: Practice | None,
    action: str,
    actor: Actor | User | None = None,
    obj: models.Model | None = None,
    changes: dict[str, Any] | None = None,
    object_repr: str | None = None,
) -> AuditLog:
    """The row ``audit_write`` appends, not yet saved, for ``audit_write_many``.
    ``object_repr`` names the object as it was at the step the row records when that is
    not what it is now (an invoice created and issued at once was a draft when created)."""
    if actor is None:
        raise ValueError("An audit row names either a user or a system job.")
    who = Actor.coerce(actor)
    if object_repr is None:
        object_repr = str(obj) if obj is not None else ""
    return AuditLog(
        practice=practice,
        actor=who.user,
        actor_label=who.label,
        action=action,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=object_repr[:255],
        changes=changes or {},
        ip_address=who.address,
    )


def audit_write_many(rows: list[AuditLog]) -> list[AuditLog]:
    """Append the rows of ``audit_row`` in one statement, in their order."""
    return AuditLog.objects.bulk_create(rows)


def diff_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{"field": [old, new]}`` for the fields whose value changed, as JSON-safe strings."""
    return {
        key: [_jsonable(before.get(key)), _jsonable(after.get(key))]
        for key in after
        if before.get(key) != after.get(key)
    }


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def snapshot(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    """The values of ``fields`` on ``obj``, taken before and after a change for ``diff_fields``."""
    return {f: getattr(obj, f) for f in fields}
