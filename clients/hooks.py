"""Hooks through which the apps above clients fill in the client record.

clients sits below appointments and billing, so it never imports them. The
record's header and its tabs (Overview, Appointments, Billing) show their facts
through context providers that those apps register here from their
``AppConfig.ready()``. Registration happens once at startup. The clients list takes
extra columns the same way (billing's Balance, Credit and Overdue), the record's
header its action buttons (Book, New invoice, Add payment), and the Settings tab its
sections (payments' AutoPay).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from practice.models import Practice
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


# --- the clients list's columns and the record's header actions ---------------------------


@dataclass(frozen=True)
class ListColumn:
    """A column an app above clients adds to the clients list. ``key`` names the
    annotation the column reads (and sorts by, when ``sortable``); ``money`` columns are
    printed in the practice's currency; a ``flag`` column shows only when above zero."""

    key: str
    label: str
    sortable: bool = False
    flag: bool = False


# (practice, clients) -> the same clients annotated with the columns' keys, in the same
# query (a subquery per column, never a query per row).
ListAnnotate = Callable[["Practice", "QuerySet[Client]"], "QuerySet[Client]"]
_list_annotations: list[ListAnnotate] = []
_list_columns: list[ListColumn] = []


def register_list_columns(annotate: ListAnnotate, columns: list[ListColumn]) -> None:
    _list_annotations.append(annotate)
    _list_columns.extend(columns)


def list_columns() -> list[ListColumn]:
    return list(_list_columns)


def list_annotate(practice: Practice, clients: QuerySet[Client]) -> QuerySet[Client]:
    for annotate in _list_annotations:
        clients = annotate(practice, clients)
    return clients


@dataclass(frozen=True)
class RecordAction:
    """A button in the client record's header: a link, or (with ``disabled``) a greyed
    button that says why it cannot be used yet."""

    label: str
    url: str = ""
    disabled: str = ""
    primary: bool = False


# (request, client) -> the actions this app offers on the record, in order.
RecordActions = Callable[["PracticeRequest", "Client"], list[RecordAction]]
_actions: list[tuple[int, RecordActions]] = []


def register_record_actions(provider: RecordActions, *, order: int) -> None:
    _actions.append((order, provider))
    _actions.sort(key=lambda pair: pair[0])


def record_actions(request: PracticeRequest, client: Client) -> list[RecordAction]:
    return [action for _, provider in _actions for action in provider(request, client)]


# --- panels on the record's Settings tab ---------------------------------------------------


@dataclass(frozen=True)
class RecordPanel:
    """A section an app above clients adds to a tab of the record: ``template`` is included
    with ``panel`` = ``context`` (payments: AutoPay on the Settings tab)."""

    template: str
    context: dict[str, Any]


# (request, client) -> the app's panel for the client's Settings tab, or None.
SettingsPanel = Callable[["PracticeRequest", "Client"], RecordPanel | None]
_settings_panels: list[SettingsPanel] = []


def register_settings_panel(provider: SettingsPanel) -> None:
    if provider not in _settings_panels:
        _settings_panels.append(provider)


def settings_panels(request: PracticeRequest, client: Client) -> list[RecordPanel]:
    return [panel for provider in _settings_panels if (panel := provider(request, client)) is not None]
