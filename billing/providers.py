"""What billing contributes to the pages and rules of the apps below it
(practice.hooks, clients.hooks). Registered from BillingConfig.ready().
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Q, Sum
from django.urls import reverse

from clients.models import Client
from practice.models import Membership, Practice, Role
from practice.money import practice_money
from practice.types import PracticeRequest

from . import selectors
from .models import BillingItem, Invoice, Payment


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


# --- the client record (clients.hooks) ---------------------------------------------------


def client_header_money(request: PracticeRequest, client: Client) -> dict[str, Any]:
    """The client header's Balance and Credit balance, from the ledger's account row."""
    practice = request.practice
    account = selectors.client_account(practice, client)
    figures = (account.balance, account.credit_balance) if account else (Decimal("0"), Decimal("0"))
    return {
        "header_money": {
            name: practice_money(practice, value) for name, value in zip(("balance", "credit"), figures, strict=True)
        }
    }


def client_overview_context(request: PracticeRequest, client: Client) -> dict[str, Any]:
    return {"uninvoiced_total": selectors.uninvoiced_total(request.practice, client=client)}


def client_billing_tab_context(request: PracticeRequest, client: Client) -> dict[str, Any]:
    from .views import client_billing_context

    practice = request.practice
    return {
        "items": selectors.client_uninvoiced_items(practice, client),
        "uninvoiced_total": selectors.uninvoiced_total(practice, client=client),
        **client_billing_context(request, client),
    }


def currency_in_use(practice: Practice) -> bool:
    # Uninvoiced items and payments (credit) are amounts in the current currency too: after
    # a change they would be invoiced or applied as amounts of the new one (USD 100.50 as
    # JPY 100.50, which no yen payment can settle).
    return (
        Invoice.objects.filter(practice=practice).exists()
        or BillingItem.objects.filter(practice=practice).exists()
        or Payment.objects.filter(practice=practice).exists()
    )
