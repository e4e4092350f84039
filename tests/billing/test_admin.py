"""Billing in the platform admin: everything visible, money records read-only, no action
that writes money."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib import admin
from django.test import Client as HttpClient
from django.test import RequestFactory
from django.urls import reverse

from billing.models import (
    BillingItem,
    ClientAccount,
    Invoice,
    InvoiceCounter,
    LedgerEntry,
    Package,
    PackagePurchase,
    Payment,
    PaymentAllocation,
)
from tests.factories import ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db

MONEY_MODELS = [
    Invoice,
    Payment,
    PaymentAllocation,
    LedgerEntry,
    ClientAccount,
    PackagePurchase,
    InvoiceCounter,
    BillingItem,
    Package,
]


@pytest.mark.parametrize(
    "model",
    [
        Invoice,
        BillingItem,
        Payment,
        PaymentAllocation,
        LedgerEntry,
        ClientAccount,
        Package,
        PackagePurchase,
        InvoiceCounter,
    ],
)
def test_every_billing_changelist_loads_and_searches(superuser_client, books, model):
    name = f"admin:billing_{model._meta.model_name}_changelist"
    assert superuser_client.get(reverse(name)).status_code == 200
    assert superuser_client.get(reverse(name), {"q": "Lima"}).status_code == 200


def test_invoice_page_shows_its_lines_and_payments_read_only(superuser_client, books):
    invoice = books["invoice"]
    response = superuser_client.get(reverse("admin:billing_invoice_change", args=[invoice.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Report writing" in page and "Session" in page
    assert 'name="_save"' not in page  # nothing to save: a view, not a form
    # A change posted anyway is refused and changes nothing
    refused = superuser_client.post(reverse("admin:billing_invoice_change", args=[invoice.pk]), {"total": "1"})
    assert refused.status_code == 403
    invoice.refresh_from_db()
    assert invoice.total == Decimal("150.000")


@pytest.mark.parametrize("model", MONEY_MODELS)
def test_money_records_cannot_be_added_changed_or_deleted(root, books, model):
    request = RequestFactory().get("/admin/")
    request.user = root
    model_admin = admin.site._registry[model]
    row = model.objects.first()
    assert row is not None
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, row)
    assert not model_admin.has_delete_permission(request, row)
    # No bulk action either (not even "delete selected").
    assert model_admin.get_actions(request) == {}


def test_ledger_rows_are_read_only_in_admin(superuser_client, books):
    entry = LedgerEntry.objects.filter(client=books["ana"]).first()
    assert superuser_client.get(reverse("admin:billing_ledgerentry_add")).status_code == 403
    assert (
        superuser_client.post(reverse("admin:billing_ledgerentry_delete", args=[entry.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


def test_an_uninvoiced_item_is_read_only_too(superuser_client, books):
    # Admin used to let a superuser edit an uninvoiced item's wording outside any service;
    # billing items now change only through the billing services, which audit them.
    item = books["item"]
    url = reverse("admin:billing_billingitem_change", args=[item.pk])
    page = superuser_client.get(url)
    assert page.status_code == 200 and 'name="description"' not in page.content.decode()
    response = superuser_client.post(url, {"date": item.date.isoformat(), "description": "Session (telehealth)"})
    assert response.status_code == 403
    item.refresh_from_db()
    assert item.description == "Session"


def test_an_invoiced_item_is_read_only(superuser_client, books):
    invoiced = BillingItem.objects.filter(invoice=books["invoice"]).first()
    url = reverse("admin:billing_billingitem_change", args=[invoiced.pk])
    assert 'name="description"' not in superuser_client.get(url).content.decode()
    assert superuser_client.post(url, {"description": "Changed"}).status_code == 403
    invoiced.refresh_from_db()
    assert invoiced.description == "Session"


def test_packages_cannot_be_added_or_changed_in_admin(superuser_client, tenant, books):
    # Settings > Packages (billing.services.packages) checks the price and the service's
    # practice and audits; admin bypassed both, so it only shows packages now.
    service = ServiceFactory(practice=tenant.practice)
    response = superuser_client.post(
        reverse("admin:billing_package_add"),
        {"practice": tenant.practice.pk, "name": "X", "service": service.pk, "sessions": 5, "price": "10"},
    )
    assert response.status_code == 403
    package = Package.objects.get()
    change = reverse("admin:billing_package_change", args=[package.pk])
    assert superuser_client.post(change, {"name": "Renamed", "price": "1"}).status_code == 403
    package.refresh_from_db()
    assert package.name != "Renamed"
    assert Package.objects.count() == 1


def test_staff_who_are_not_superusers_cannot_open_billing_admin(books):
    staff = UserFactory(email="support@platform.test", is_staff=True, is_superuser=False)
    client = HttpClient()
    client.force_login(staff)
    response = client.get(reverse("admin:billing_invoice_changelist"))
    assert response.status_code in (302, 403)
