"""Hooks through which the apps above clients fill in the client record.

clients sits below appointments and billing, so it never imports them. The
record's header and its tabs (Overview, Appointments, Billing) show their facts
through context providers that those apps register here from their
``AppConfig.ready()``. Registration happens once at startup.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from practice.types import PracticeRequest

    from .models import Client

# (request, client) -> extra template context.
RecordContext = Callable[["PracticeRequest", "Client"], dict[str, Any]]
_header: list[RecordContext] = []
_tabs: dict[str, list[RecordContext]] = {}


def register_record_header(provider: RecordContext) -> None:
    """Context for the header shown above every tab of the client record."""
    _header.append(provider)


def register_record_tab(tab: str, provider: RecordContext) -> None:
    """Context for one tab of the client record ("overview", "appointments", "billing")."""
    _tabs.setdefault(tab, []).append(provider)


def record_header_context(request: PracticeRequest, client: Client) -> dict[str, Any]:
    return _merged(_header, request, client)


def record_tab_context(tab: str, request: PracticeRequest, client: Client) -> dict[str, Any]:
    return _merged(_tabs.get(tab, []), request, client)


def _merged(providers: list[RecordContext], request: PracticeRequest, client: Client) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for provider in providers:
        context.update(provider(request, client))
    return context
