"""What billing contributes to the pages and rules of the apps below it
(practice.hooks, clients.hooks). Registered from BillingConfig.ready().
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Q, Sum
from django.urls import reverse

from practice.models import Membership, Practice, Role
from practice.money import practice_money

from .models import BillingItem, Invoice


def dashboard_money_tiles(practice: Practice, membership: Membership, today: date) -> list[dict[str, Any]]:
    """Uninvoiced, Outstanding and Overdue, for everyone but clinicians."""
    if membership.role == Role.CLINICIAN:
        return []
    uninvoiced = BillingItem.objects.filter(practice=practice, invoice__isnull=True).aggregate(total=Sum("amount"))
    owed = Invoice.objects.filter(practice=practice, kind=Invoice.Kind.INVOICE, status=Invoice.Status.OPEN).aggregate(
        outstanding=Sum("balance"),
        overdue=Sum("balance", filter=Q(due_date__lt=today)),
    )
    billing = reverse("billing:home", kwargs={"practice_slug": practice.slug})
    invoices = reverse("billing:invoices", kwargs={"practice_slug": practice.slug})
    return [
        {
            "label": label,
            "value": practice_money(practice, amount or Decimal("0")),
            "url": url,
        }
        for label, amount, url in (
            ("Uninvoiced", uninvoiced["total"], billing),
            ("Outstanding", owed["outstanding"], invoices),
            ("Overdue", owed["overdue"], f"{invoices}?status=overdue"),
        )
    ]
