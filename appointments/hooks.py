"""Hooks through which the apps above appointments act on its sessions.

appointments sits below billing, so it never imports billing. What a session's status
costs (its billing items, package draws and fees) is billing's to write: billing
registers that from BillingConfig.ready(), and appointments calls it inside its own
transaction with the appointment row locked. Registration happens once at startup.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from practice.models import User
    from practice.types import PracticeRequest

    from .models import Appointment

# (*, appointment) -> the billing items created. Called with the appointment row locked.
ItemsSync = Callable[..., list[Any]]
_items_sync: list[ItemsSync] = []


def register_billing_items_sync(sync: ItemsSync) -> None:
    _items_sync.append(sync)


def billing_items_sync(*, appointment: Appointment) -> list[Any]:
    """Create what the appointment's status calls for and is missing; return the new items.
    Without an app that bills sessions there is nothing to create."""
    created: list[Any] = []
    for sync in _items_sync:
        created.extend(sync(appointment=appointment))
    return created


# (*, appointment, actor) -> None: before a cancel, refuse if anything is invoiced, else
# remove the uninvoiced items and return package sessions. Called with the row locked.
Release = Callable[..., None]
_release: list[Release] = []


def register_billing_items_release(handler: Release) -> None:
    _release.append(handler)


def billing_items_release(*, appointment: Appointment, actor: User) -> None:
    for handler in _release:
        handler(appointment=appointment, actor=actor)


# (request, appointment, attendees) -> the appointment page's billing context: its
# items, their state and what billing staff can do with them.
PageBilling = Callable[..., dict[str, Any]]
_page_billing: list[PageBilling] = []


def register_appointment_page_billing(provider: PageBilling) -> None:
    _page_billing.append(provider)


def appointment_page_billing(
    request: PracticeRequest, appointment: Appointment, attendees: list[Any]
) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for provider in _page_billing:
        context.update(provider(request, appointment, attendees))
    return context
