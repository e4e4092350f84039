"""Hooks through which the apps above practice plug into its pages and rules.

practice is the lowest layer (practice < clients < appointments < billing <
payments), so it never imports the apps that build on it. Where a practice page
or rule needs their facts, an upper app registers a callable here from its
``AppConfig.ready()``. Registration happens once at startup; the lists are not
meant to change afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import Membership, Practice

# (practice, membership, today) -> the dashboard tiles that app contributes, each a
# dict with "label", "value" and "url". Tiles appear in the order of `order`.
DashboardTiles = Callable[["Practice", "Membership", date], list[dict[str, Any]]]
_dashboard_tiles: list[tuple[int, DashboardTiles]] = []


def register_dashboard_tiles(provider: DashboardTiles, *, order: int) -> None:
    _dashboard_tiles.append((order, provider))
    _dashboard_tiles.sort(key=lambda entry: entry[0])


def dashboard_tiles(practice: Practice, membership: Membership, today: date) -> list[dict[str, Any]]:
    tiles: list[dict[str, Any]] = []
    for _order, provider in _dashboard_tiles:
        tiles.extend(provider(practice, membership, today))
    return tiles


# (practice, membership, today) -> the dashboard panels that app contributes, by name:
# "schedule" (today's sessions), "work" (what is left to do, each a tile with a link to the
# filtered list), "tiles" (more tiles, after the tiles above), "weeks" (billed and collected
# per week), and "autopay" and "attention" (a card of figures each: "heading", "testid",
# "rows" of "label", "count", "amount", "url" and "help", and "empty" and "note" texts).
# The dashboard draws them.
DashboardPanels = Callable[["Practice", "Membership", date], dict[str, Any]]
_dashboard_panels: list[tuple[int, DashboardPanels]] = []


def register_dashboard_panels(provider: DashboardPanels, *, order: int) -> None:
    _dashboard_panels.append((order, provider))
    _dashboard_panels.sort(key=lambda entry: entry[0])


def dashboard_panels(practice: Practice, membership: Membership, today: date) -> dict[str, Any]:
    panels: dict[str, Any] = {}
    for _order, provider in _dashboard_panels:
        panels.update(provider(practice, membership, today))
    return panels


@dataclass(frozen=True)
class SettingsPage:
    """A section of Settings: its link in the settings navigation and its card on the
    Settings page. Who sees it is not said here: the navigation asks the page's own view
    (the roles its require_role names), so a link shows exactly when the page would open."""

    label: str
    url_name: str
    help_text: str


# Every app's settings pages (practice's own too), in the order of `order`.
_settings_pages: list[tuple[int, SettingsPage]] = []


def register_settings_page(*, label: str, url_name: str, help_text: str, order: int) -> None:
    _settings_pages.append((order, SettingsPage(label=label, url_name=url_name, help_text=help_text)))
    _settings_pages.sort(key=lambda entry: entry[0])


def settings_pages() -> list[SettingsPage]:
    return [page for _order, page in _settings_pages]


@dataclass(frozen=True)
class Report:
    """A report on the Reports page: its link, what it answers, and the roles that may open
    it (the index lists it only to them; its own view checks the same roles)."""

    slug: str
    label: str
    description: str
    url_name: str
    roles: tuple[str, ...]


# Every app's reports (reports' own four, payments' Payouts reconciliation), in `order`.
_reports: list[tuple[int, Report]] = []


def register_report(
    slug: str, label: str, description: str, url_name: str, roles: tuple[str, ...], *, order: int = 100
) -> None:
    """Add a report to the Reports page, from an app's ``AppConfig.ready()``. ``url_name``
    is a staff URL taking only the practice's slug."""
    _reports.append(
        (order, Report(slug=slug, label=label, description=description, url_name=url_name, roles=tuple(roles)))
    )
    _reports.sort(key=lambda entry: entry[0])


def reports_for(role: str) -> list[Report]:
    """The reports a member with ``role`` may open, in order."""
    return [report for _order, report in _reports if role in report.roles]
