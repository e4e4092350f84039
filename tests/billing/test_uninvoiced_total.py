"""One selector for "billed but not yet invoiced", for a practice, a client or an appointment."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from billing.selectors import uninvoiced_total
from tests.factories import ClientFactory, ServiceFactory, completed_session_items, issued_invoice, make_item

pytestmark = pytest.mark.django_db


def test_given_items_some_invoiced_then_only_the_uninvoiced_count_for_the_practice_and_client(tenant, other_tenant):
    practice = tenant.practice
    alice, bob = ClientFactory(practice=practice), ClientFactory(practice=practice)
    make_item(practice, alice, "100.00")
    make_item(practice, alice, "25.50")
    make_item(practice, bob, "40.00")
    issued_invoice(practice, alice, tenant.owner, "999.00")
    make_item(other_tenant.practice, ClientFactory(practice=other_tenant.practice), "7.00")

    assert uninvoiced_total(practice) == D("165.50")
    assert uninvoiced_total(practice, client=alice) == D("125.50")
    assert uninvoiced_total(practice, client=bob) == D("40.00")
    assert uninvoiced_total(other_tenant.practice) == D("7.00")


def test_given_nothing_uninvoiced_then_the_total_is_zero(tenant):
    assert uninvoiced_total(tenant.practice, client=ClientFactory(practice=tenant.practice)) == D("0")


def test_given_a_completed_session_then_its_appointment_total_is_its_items(tenant):
    practice = tenant.practice
    client = ClientFactory(practice=practice)
    service = ServiceFactory(practice=practice, price=D("80.00"))
    items = completed_session_items(practice, tenant.owner, tenant.clinician, client, service)
    make_item(practice, client, "15.00")

    assert uninvoiced_total(practice, appointment=items[0].appointment) == D("80.00")
    assert uninvoiced_total(practice, client=client) == D("95.00")


def test_another_practice_never_counts_an_appointments_items(tenant, other_tenant):
    practice = tenant.practice
    client = ClientFactory(practice=practice)
    items = completed_session_items(practice, tenant.owner, tenant.clinician, client)
    assert uninvoiced_total(other_tenant.practice, appointment=items[0].appointment) == D("0")
