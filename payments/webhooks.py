"""Stripe webhook events: stored once, then handled by a registered handler in a worker.

Intake (``webhook_event_receive``) stores each event id once, whatever Stripe's redeliveries,
and queues the worker only for a new row. The worker (``webhook_event_process``) locks the
row, calls the handler registered for its type and records the outcome:

- processed: the handler returned;
- ignored: no handler for the type, an event of a connected account no practice has, or the
  handler raised ``WebhookIgnored``;
- failed: the handler raised; ``last_error`` says what, and ``retry_at`` when the sweeper
  tries again (until ``MAX_ATTEMPTS``).

A worker killed mid-handling rolls its transaction back, so the row is still received: the
broker redelivers the job (acks_late, reject-on-worker-lost) or the sweeper re-queues it.

Stripe promises neither order nor once-only delivery, so handlers never trust the event's
copy of the object: they re-read its current state from Stripe (``context.current()``) and
make the local rows match it. Two events about one object then converge on the same rows.

The gateway registers the re-read (``register_reread``) and the account lookup
(``register_account_lookup``); until it does, connected-account events are ignored.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from .models import WebhookEvent

logger = logging.getLogger(__name__)

# (object type, object id, connected account id or None) -> the object as Stripe has it now.
Reread = Callable[[str, str, str | None], Mapping[str, Any]]
# Connected account id -> whether a practice of ours has it.
AccountLookup = Callable[[str], bool]


@dataclass(frozen=True)
class WebhookContext:
    event: WebhookEvent
    reread: Reread

    @property
    def account(self) -> str | None:
        return self.event.account or None

    @property
    def object(self) -> Mapping[str, Any]:
        """The object as the event carried it: possibly stale, only for its id and type."""
        data: Mapping[str, Any] = self.event.payload["data"]["object"]
        return data

    def current(self) -> Mapping[str, Any]:
        """The event's object as Stripe has it now."""
        return self.reread(str(self.object["object"]), str(self.object["id"]), self.account)


Handler = Callable[[WebhookContext], None]


class WebhookIgnored(Exception):
    """Raised by a handler for an event that concerns nothing of ours."""


MAX_ATTEMPTS = 8
# An event still received this long after it came was lost on its way to a worker.
SWEEP_AFTER = timedelta(minutes=5)
IGNORED_NO_HANDLER = "No handler for this event type."
IGNORED_UNKNOWN_ACCOUNT = "The connected account belongs to no practice."
_ERROR_MAX = 2000

_handlers: dict[str, Handler] = {}


def _no_reread(object_type: str, object_id: str, account: str | None) -> Mapping[str, Any]:
    raise RuntimeError("No Stripe re-read is registered (payments.webhooks.register_reread).")


def _no_account(account: str) -> bool:
    return False


_reread: list[Reread] = [_no_reread]
_account_lookup: list[AccountLookup] = [_no_account]


def webhook_handler(*event_types: str) -> Callable[[Handler], Handler]:
    """Register a handler for these event types (one handler per type)."""

    def register(handler: Handler) -> Handler:
        for event_type in event_types:
            existing = _handlers.get(event_type)
            if existing is not None and existing is not handler:
                raise ValueError(f"{event_type} already has a handler: {existing.__qualname__}")
            _handlers[event_type] = handler
        return handler

    return register


def handlers_all(*handlers: Handler) -> Handler:
    """One handler that runs each of ``handlers`` in turn, for an event type that more than
    one part of the app follows (payment_intent.succeeded: a card charge settles, Stripe's
    fee is read). The event is ignored only when every one of them ignores it."""

    def handle(context: WebhookContext) -> None:
        reasons = []
        for handler in handlers:
            try:
                handler(context)
            except WebhookIgnored as exc:
                reasons.append(str(exc))
        if len(reasons) == len(handlers):
            raise WebhookIgnored(" ".join(reasons))

    handle.__qualname__ = "handlers_all(" + ", ".join(h.__qualname__ for h in handlers) + ")"
    return handle


def webhook_handler_remove(*event_types: str) -> None:
    for event_type in event_types:
        _handlers.pop(event_type, None)


def register_reread(reread: Reread) -> Reread:
    """Set how handlers re-read an object from Stripe; returns the previous one."""
    previous = _reread[0]
    _reread[0] = reread
    return previous


def register_account_lookup(lookup: AccountLookup) -> AccountLookup:
    """Set how a connected account id is recognised as ours; returns the previous one."""
    previous = _account_lookup[0]
    _account_lookup[0] = lookup
    return previous


class InvalidEvent(ValueError):
    pass


@dataclass(frozen=True)
class ParsedEvent:
    stripe_id: str
    type: str
    account: str
    livemode: bool
    body: str


def webhook_event_parse(body: bytes) -> ParsedEvent:
    """The fields intake needs from a (not yet verified) body; InvalidEvent if it is no event."""
    try:
        text = body.decode("utf-8")
        data = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidEvent("not JSON") from exc
    if not isinstance(data, dict) or data.get("object") != "event":
        raise InvalidEvent("not an event")
    stripe_id, type_, account = data.get("id"), data.get("type"), data.get("account") or ""
    if not isinstance(stripe_id, str) or not stripe_id or not isinstance(type_, str) or not type_:
        raise InvalidEvent("no id or type")
    if not isinstance(account, str):
        raise InvalidEvent("bad account")
    data_object = data.get("data")
    if not isinstance(data_object, dict) or not isinstance(data_object.get("object"), dict):
        raise InvalidEvent("no data.object")
    return ParsedEvent(stripe_id, type_, account, bool(data.get("livemode")), text)


# One statement instead of get_or_create: a redelivery racing the first delivery finds the
# unique index, not an IntegrityError (nor an error line in PostgreSQL's log per duplicate).
# The table name is the model's own; every value is a parameter.
_INSERT = f"""
    INSERT INTO {WebhookEvent._meta.db_table}
        (stripe_id, type, account, livemode, payload, received_at, attempts, last_error, status)
    VALUES (%s, %s, %s, %s, %s::jsonb, %s, 0, '', %s)
    ON CONFLICT (stripe_id) DO NOTHING
    RETURNING id
"""  # noqa: S608


def webhook_event_receive(*, event: ParsedEvent) -> int | None:
    """Store a verified event and queue its handling; the new row's id, or None for an
    event already stored (which changes nothing)."""
    from .tasks import webhook_event_process_task

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                _INSERT,
                [
                    event.stripe_id,
                    event.type,
                    event.account,
                    event.livemode,
                    event.body,
                    timezone.now(),
                    WebhookEvent.Status.RECEIVED,
                ],
            )
            row = cursor.fetchone()
        if row is None:
            return None
        pk = int(row[0])
        transaction.on_commit(lambda: webhook_event_process_task.delay(pk))
    return pk


def _retry_delay(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** (attempts - 1), 60))


def webhook_event_process(event_pk: int) -> str | None:
    """Handle one stored event; the status it ends in, or None when there was nothing to do
    (already handled, out of attempts, or another worker holds it)."""
    with transaction.atomic():
        event = (
            WebhookEvent.objects.select_for_update(skip_locked=True)
            .filter(pk=event_pk, status__in=[WebhookEvent.Status.RECEIVED, WebhookEvent.Status.FAILED])
            .first()
        )
        if event is None or event.attempts >= MAX_ATTEMPTS:
            return None
        event.attempts += 1
        now = timezone.now()
        handler = _handlers.get(event.type)
        if handler is None:
            return _finish(event, WebhookEvent.Status.IGNORED, IGNORED_NO_HANDLER, now)
        if event.account and not _account_lookup[0](event.account):
            return _finish(event, WebhookEvent.Status.IGNORED, IGNORED_UNKNOWN_ACCOUNT, now)
        try:
            # A savepoint: a handler that fails leaves none of its writes behind.
            with transaction.atomic():
                handler(WebhookContext(event=event, reread=_reread[0]))
        except WebhookIgnored as exc:
            return _finish(event, WebhookEvent.Status.IGNORED, str(exc), now)
        except Exception as exc:
            logger.warning("webhook event %s (%s) failed: %s", event.stripe_id, event.type, exc, exc_info=True)
            event.status = WebhookEvent.Status.FAILED
            event.last_error = f"{type(exc).__name__}: {exc}"[:_ERROR_MAX]
            event.retry_at = now + _retry_delay(event.attempts) if event.attempts < MAX_ATTEMPTS else None
            event.save(update_fields=["status", "last_error", "retry_at", "attempts"])
            return event.status
        return _finish(event, WebhookEvent.Status.PROCESSED, "", now)


def _finish(event: WebhookEvent, status: str, note: str, now: datetime) -> str:
    event.status = status
    event.last_error = note
    event.processed_at = now
    event.retry_at = None
    event.save(update_fields=["status", "last_error", "processed_at", "retry_at", "attempts"])
    return status


def webhook_events_due(*, limit: int = 500) -> list[int]:
    """Ids of events whose handling seems lost (received long ago) or whose retry is due."""
    now = timezone.now()
    return list(
        WebhookEvent.objects.filter(
            Q(status=WebhookEvent.Status.RECEIVED, received_at__lt=now - SWEEP_AFTER)
            | Q(status=WebhookEvent.Status.FAILED, retry_at__lte=now)
        )
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def webhook_handlers() -> Iterable[str]:
    return sorted(_handlers)
