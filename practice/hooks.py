"""Hooks through which the apps above practice plug into its pages and rules.

practice is the lowest layer (practice < clients < appointments < billing <
payments), so it never imports the apps that build on it. Where a practice page
or rule needs their facts, an upper app registers a callable here from its
``AppConfig.ready()``. Registration happens once at startup; the lists are not
meant to change afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
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
