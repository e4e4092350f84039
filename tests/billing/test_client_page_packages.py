"""The client's Billing tab shows sessions left and offers Sell package to billing staff."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.models import Package
from billing.services import package_sell
from tests.factories import ClientFactory, ServiceFactory
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db


def test_billing_tab_shows_sessions_left_and_sell_package(tenant, other_tenant):
    # Given a client who bought 10 sessions
    service = ServiceFactory(practice=tenant.practice, name="Counselling 50 min", price=Decimal("150.00"))
    package = Package.objects.create(
        practice=tenant.practice, name="10 sessions", service=service, sessions=10, price=Decimal("1350.00")
    )
    ana = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima", clinicians=[tenant.clinician])
    package_sell(practice=tenant.practice, client=ana, package=package, actor=tenant.owner)
    tab = reverse("clients:billing", kwargs={"practice_slug": tenant.practice.slug, "client_id": ana.pk})
    sell = reverse("billing:package_sell", kwargs={"practice_slug": tenant.practice.slug, "client_id": ana.pk})

    # When the biller opens the client's Billing tab
    page = signed_in(tenant.biller).get(tab).content.decode()

    # Then the sessions left and the Sell package link are there
    assert 'data-testid="sessions-left">10<' in page
    assert sell in page

    # And the client's clinician sees the sessions left but no Sell package button
    page = signed_in(tenant.clinician).get(tab).content.decode()
    assert 'data-testid="package-sessions-left">10<' in page
    assert sell not in page


def test_a_client_with_no_package_shows_none_without_reading_packages(tenant):
    bea = ClientFactory(practice=tenant.practice, first_name="Bea")
    tab = reverse("clients:billing", kwargs={"practice_slug": tenant.practice.slug, "client_id": bea.pk})
    with CaptureQueriesContext(connection) as queries:
        page = signed_in(tenant.biller).get(tab).content.decode()
    assert "No packages sold to this client." in page and 'data-testid="package-line"' not in page
    # The figures query counts the purchases; with none, the purchases are not read.
    assert not [q for q in queries.captured_queries if q["sql"].startswith('SELECT "billing_packagepurchase"')]
