"""The billing demo data: invoices, payments, a credit invoice and a package for Harbour,
through the services (the books balance), and nothing added by a second load."""

from __future__ import annotations

import pytest

from billing.models import Invoice, LedgerEntry, PackagePurchase, Payment
from billing.services import ledger_verify
from practice.demo import HARBOUR, load_demo_data
from practice.models import Practice

pytestmark = pytest.mark.django_db


def test_demo_has_invoices_payments_credit_and_a_package_and_loads_once():
    load_demo_data()
    harbour = Practice.objects.get(slug=HARBOUR["slug"])
    invoices = Invoice.objects.filter(practice=harbour, kind="invoice")
    statuses = {i.display_status for i in invoices.select_related("practice")}

    assert invoices.count() > 5
    assert {"Paid", "Partially paid", "Overdue", "Open"} <= statuses
    assert Invoice.objects.filter(practice=harbour, kind="credit", status="open").count() == 1
    assert Payment.objects.filter(practice=harbour, method="cash").exists()
    assert Payment.objects.filter(practice=harbour, method="card_terminal").exists()
    assert PackagePurchase.objects.filter(practice=harbour).count() == 1
    assert ledger_verify(harbour) == []

    counts = (Invoice.objects.count(), Payment.objects.count(), LedgerEntry.objects.count())
    load_demo_data()
    assert (Invoice.objects.count(), Payment.objects.count(), LedgerEntry.objects.count()) == counts
