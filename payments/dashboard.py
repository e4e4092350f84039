"""What payments adds to the dashboard (practice.hooks.register_dashboard_panels): last
night's AutoPay results (from AutoPay's own rows) and the card payments that need staff,
each figure linking to the Card charges list filtered to the rows behind it. Owners,
admins and billers only, as the dashboard's other money; three queries whatever the size
of the practice.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.urls import reverse

from clients.autopay import WINDOW_END
from practice.access import BILLING_ROLES
from practice.dates import day_label
from practice.models import Membership, Practice
from practice.money import practice_money

from . import selectors
from .selectors import Figure

AUTOPAY_HEADING = "AutoPay last night"
AUTOPAY_NOTE = "The night of {night}: charges made from 12 AM to 6 AM."
AUTOPAY_RUNNING = "The night of {night}: AutoPay is still charging until 6 AM."
AUTOPAY_NONE = "AutoPay charged no one that night."
AUTOPAY_ALL = "Every AutoPay charge of that night"
ATTENTION_HEADING = "Payments needing attention"


def dashboard_panels(practice: Practice, membership: Membership, today: date) -> dict[str, Any]:
    if membership.role not in BILLING_ROLES:
        return {}
    return {"autopay": _autopay(practice, today), "attention": _attention(practice)}


def _list_url(practice: Practice, **query: str) -> str:
    url = reverse("payments:card_charges", kwargs={"practice_slug": practice.slug})
    return url + "?" + "&".join(f"{key}={value}" for key, value in query.items()) if query else url


def _row(practice: Practice, label: str, figure: Figure, url: str, help_text: str) -> dict[str, Any]:
    return {
        "label": label,
        "count": figure.count,
        "amount": practice_money(practice, figure.total),
        "url": url,
        "help": help_text,
    }


def _autopay(practice: Practice, today: date) -> dict[str, Any]:
    """Last night is the one whose 12 AM to 6 AM fell on today's local date (before 6 AM,
    the night still under way)."""
    night = today
    results = selectors.autopay_night_results(practice, night)
    running = practice.local_now().time() < WINDOW_END
    on = {"autopay_night": night.isoformat()}
    rows = [
        _row(practice, "Charged", results.charged, _list_url(practice, **on, status="succeeded"), "Paid in full"),
        _row(
            practice,
            "Declined or failed",
            results.declined,
            _list_url(practice, **on, status="failed"),
            "The client was emailed a link to update their card",
        ),
        _row(
            practice,
            "Needs client action",
            results.needs_action,
            _list_url(practice, **on, status="requires_action"),
            "The bank asked the client to confirm",
        ),
    ]
    if results.processing.count:
        rows.append(
            _row(
                practice,
                "Still charging",
                results.processing,
                _list_url(practice, **on, status="processing"),
                "Stripe has not answered yet",
            )
        )
    if results.not_charged.count:
        row = _row(
            practice,
            "Not charged after all",
            results.not_charged,
            _list_url(practice, **on, status=selectors.NOT_CHARGED),
            "Nothing due any more, skipped, or above the client's maximum",
        )
        rows.append({**row, "amount": None})
    label = day_label(night)
    return {
        "heading": AUTOPAY_HEADING,
        "testid": "autopay",
        "note": (AUTOPAY_RUNNING if running else AUTOPAY_NOTE).format(night=label),
        "rows": rows if results.count else [],
        "empty": "" if results.count else AUTOPAY_NONE,
        "link": {"url": _list_url(practice, **on), "label": AUTOPAY_ALL} if results.count else None,
    }


def _attention(practice: Practice) -> dict[str, Any]:
    attention = selectors.payments_needing_attention(practice)
    return {
        "heading": ATTENTION_HEADING,
        "testid": "attention",
        "rows": [
            _row(
                practice,
                "Card charges declined or waiting for the client",
                attention.declined,
                _list_url(practice, status=selectors.ATTENTION),
                "The invoice still owes and no newer charge was made",
            ),
            {
                "label": "Card payments held for review",
                "count": attention.held,
                "amount": None,
                "url": _list_url(practice, status=selectors.HELD),
                "help": "Stripe took another amount than the invoice asked",
            },
        ],
    }
