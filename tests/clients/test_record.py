"""The client page and its tabs: Overview, Appointments, Billing, Settings."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from appointments.models import Appointment, Attendee, Service
from billing.models import BillingItem, Invoice
from tests.factories import PayerFactory
from tests.helpers import url


def appointment(tenant, client, *, start, status="scheduled", service=None):
    appt = Appointment.objects.create(
        practice=tenant.practice,
        clinician=tenant.clinician,
        start=start,
        end=start + timedelta(minutes=50),
        status=status,
    )
    Attendee.objects.create(appointment=appt, client=client)
    if service:
        appt.services.add(service)
    return appt


def item(tenant, client, *, amount, invoice=None, description="Individual therapy"):
    return BillingItem.objects.create(
        practice=tenant.practice,
        client=client,
        kind=BillingItem.Kind.MANUAL,
        date=date(2026, 3, 2),
        description=description,
        units=Decimal("1"),
        unit_price=Decimal(amount),
        tax_percent=Decimal("0"),
        net=Decimal(amount),
        tax=Decimal("0"),
        amount=Decimal(amount),
        currency="USD",
        invoice=invoice,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("tab", ["detail", "appointments", "billing", "settings"])
def test_every_tab_renders_the_header_and_the_tab_bar(tenant, owner_client, clara_client, tab):
    response = owner_client.get(url(tenant, f"clients:{tab}", client_id=clara_client.pk))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Ana Lima" in html and "ana@mail.test" in html and ">Active<" in html
    for label in ("Overview", "Appointments", "Billing", "Settings"):
        assert f">{label}</a>" in html
    assert 'aria-current="page"' in html


@pytest.mark.django_db
def test_the_header_shows_the_payer_as_where_invoices_go(tenant, owner_client, clara_client):
    clara_client.payer = PayerFactory(practice=tenant.practice, first_name="Karen", email="karen@mail.test")
    clara_client.save()
    html = owner_client.get(url(tenant, "clients:detail", client_id=clara_client.pk)).content.decode()
    assert "Karen" in html and "karen@mail.test" in html


@pytest.mark.django_db
def test_appointments_tab_lists_the_clients_appointments_newest_first(
    tenant, owner_client, clara_client, daniel_client
):
    service = Service.objects.create(
        practice=tenant.practice, name="Individual therapy", code="IT", price=Decimal("120")
    )
    now = timezone.now()
    older = appointment(tenant, clara_client, start=now - timedelta(days=7), status="completed", service=service)
    newer = appointment(tenant, clara_client, start=now + timedelta(days=7))
    appointment(tenant, daniel_client, start=now)  # someone else's
    response = owner_client.get(url(tenant, "clients:appointments", client_id=clara_client.pk))
    assert [a.pk for a in response.context["page"]] == [newer.pk, older.pk]
    html = response.content.decode()
    assert "Completed" in html and "Scheduled" in html and "Individual therapy" in html


@pytest.mark.django_db
def test_billing_tab_shows_uninvoiced_items_and_their_total(tenant, owner_client, clara_client, daniel_client):
    item(tenant, clara_client, amount="120.00")
    item(tenant, clara_client, amount="45.50", description="Report writing")
    invoice = Invoice.objects.create(practice=tenant.practice, client=clara_client, currency="USD")
    item(tenant, clara_client, amount="999.00", invoice=invoice, description="Already invoiced")
    item(tenant, daniel_client, amount="500.00", description="Other client")
    response = owner_client.get(url(tenant, "clients:billing", client_id=clara_client.pk))
    html = response.content.decode()
    assert response.context["uninvoiced_total"] == Decimal("165.50")
    assert "$165.50" in html and "Uninvoiced amount" in html
    assert "Report writing" in html
    assert "Already invoiced" not in html and "Other client" not in html


@pytest.mark.django_db
def test_overview_shows_the_uninvoiced_amount(tenant, owner_client, clara_client):
    item(tenant, clara_client, amount="80.00")
    html = owner_client.get(url(tenant, "clients:detail", client_id=clara_client.pk)).content.decode()
    assert "$80.00" in html


@pytest.mark.django_db
def test_the_nav_links_to_clients(tenant, owner_client):
    html = owner_client.get(url(tenant, "dashboard")).content.decode()
    assert f'href="{url(tenant, "clients:list")}"' in html


@pytest.mark.django_db
def test_appointment_times_are_shown_in_the_practices_timezone(tenant, owner_client, clara_client):
    # 14:00 UTC on 2 March 2026 is 09:00 in New York (EST).
    from datetime import UTC, datetime

    appointment(tenant, clara_client, start=datetime(2026, 3, 2, 14, 0, tzinfo=UTC))
    html = owner_client.get(url(tenant, "clients:appointments", client_id=clara_client.pk)).content.decode()
    assert "Mon 2 Mar 2026, 9:00 AM" in html  # and in its (US) 12-hour clock
