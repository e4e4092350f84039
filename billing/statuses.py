"""How a biller reads an invoice's or a payment's status: one table of words and badges.

An invoice's status code is derived from its stored status and figures (draft, open,
issued, partially_paid, overdue, paid, written_off, void): in SQL by the Billing page
selector's ``derived_status`` annotation for lists, and by ``Invoice.status_code`` for
one invoice. A payment's code is its ``Payment.Status``. Every badge and status word on a
page comes from ``STATUS_BADGES``.
"""

from __future__ import annotations

# Status code -> (label a biller reads, badge class).
STATUS_BADGES: dict[str, tuple[str, str]] = {
    "draft": ("Draft", ""),
    "open": ("Open", "badge-info"),
    "issued": ("Issued", "badge-info"),
    "partially_paid": ("Partially paid", "badge-warn"),
    "overdue": ("Overdue", "badge-bad"),
    "paid": ("Paid", "badge-ok"),
    "written_off": ("Written off", ""),
    "void": ("Void", ""),
    "succeeded": ("Succeeded", "badge-ok"),
    "pending": ("Pending", "badge-info"),
    "failed": ("Failed", "badge-bad"),
    "reversed": ("Reversed", ""),
    "refunded": ("Refunded", ""),
    "partially_refunded": ("Partially refunded", "badge-warn"),
    # A card payment's dispute (Payment.DisputeStatus), beside its status.
    "dispute_open": ("Disputed", "badge-bad"),
    "dispute_won": ("Dispute won", "badge-ok"),
    "dispute_lost": ("Dispute lost", "badge-bad"),
}

# The same badges found by the words a page shows (Invoice.display_status, a payment's label).
BADGE_BY_LABEL = {label: css for label, css in STATUS_BADGES.values()}


def status_badge(code: str) -> tuple[str, str]:
    """(label, badge class) for a status code; an unknown code reads as its own words."""
    return STATUS_BADGES.get(code, (code.replace("_", " ").capitalize(), ""))
