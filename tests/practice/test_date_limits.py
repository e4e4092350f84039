"""Dates as people type them (issue 9, part 11): payment and invoice dates within the
practice's allowance and not before 2000, appointments within 10 years, and dates far
outside the supported range are a 404 or a field error, never a 500 (OverflowError)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from appointments.models import Appointment
from billing import services as ss
from billing.models import Invoice, Payment
from practice.dates import APPOINTMENT_TOO_FAR, DATE_IN_FUTURE, DATE_TOO_EARLY, DATE_TOO_FAR_AHEAD, DATE_UNSUPPORTED
from practice.models import Practice
from tests.appointments.helpers import details_post, form_post
from tests.billing.helpers import post_payment
from tests.factories import ClientFactory, ServiceFactory, issued_invoice
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db


def allow(tenant, **days):
    Practice.objects.filter(pk=tenant.practice.pk).update(**days)
    tenant.practice.refresh_from_db()


# --- payments -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "message"), [(timedelta(days=1), DATE_IN_FUTURE), (timedelta(days=400), DATE_IN_FUTURE)]
)
def test_a_payment_dated_in_the_future_is_a_field_error_and_records_nothing(tenant, offset, message):
    ana = ClientFactory(practice=tenant.practice)
    issued_invoice(tenant.practice, ana, tenant.owner, "100.00")

    response = post_payment(
        signed_in(tenant.biller),
        tenant,
        {"client": ana.pk},
        received_on=(tenant.practice.local_today() + offset).isoformat(),
        amount="10.00",
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Payment.objects.filter(client=ana).exists()


@pytest.mark.parametrize("typed", ["1999-12-31", "0024-05-01"])
def test_a_payment_dated_before_2000_is_a_field_error(tenant, typed):
    ana = ClientFactory(practice=tenant.practice)
    issued_invoice(tenant.practice, ana, tenant.owner, "100.00")

    response = post_payment(signed_in(tenant.biller), tenant, {"client": ana.pk}, received_on=typed, amount="10.00")

    assert response.status_code == 400
    assert DATE_TOO_EARLY in response.content.decode()
    assert not Payment.objects.filter(client=ana).exists()


def test_the_practice_may_allow_payments_dated_a_few_days_ahead(tenant):
    allow(tenant, payment_date_max_future_days=3)
    ana = ClientFactory(practice=tenant.practice)
    issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    today = tenant.practice.local_today()

    too_far = post_payment(
        signed_in(tenant.biller),
        tenant,
        {"client": ana.pk},
        received_on=(today + timedelta(days=4)).isoformat(),
        amount="10.00",
    )
    ok = post_payment(
        signed_in(tenant.biller),
        tenant,
        {"client": ana.pk},
        received_on=(today + timedelta(days=3)).isoformat(),
        amount="10.00",
    )

    latest = (today + timedelta(days=3)).isoformat()
    assert DATE_TOO_FAR_AHEAD.format(days=3, latest=latest) in too_far.content.decode()
    assert ok.status_code == 302
    assert Payment.objects.get(client=ana).received_on == today + timedelta(days=3)


def test_mark_as_paid_in_the_future_is_a_field_error(tenant):
    ana = ClientFactory(practice=tenant.practice)
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    tomorrow = tenant.practice.local_today() + timedelta(days=1)

    response = signed_in(tenant.biller).post(
        url(tenant.practice, "billing:invoice_mark_paid", invoice_id=invoice.pk),
        {"method": "cash", "received_on": tomorrow.isoformat()},
    )

    assert response.status_code == 400
    assert DATE_IN_FUTURE in response.content.decode()
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance) == ("open", Decimal("100.00"))


# --- invoice line dates ---------------------------------------------------------------------


def new_invoice_with_line_date(tenant, client, typed):
    post = {
        "client": client.pk,
        "action": "draft",
        "line-TOTAL_FORMS": "1",
        "line-INITIAL_FORMS": "0",
        "line-0-date": typed,
        "line-0-description": "Report",
        "line-0-units": "1",
        "line-0-unit_price": "50",
        "line-0-tax_percent": "0",
    }
    return signed_in(tenant.biller).post(url(tenant.practice, "billing:invoice_new"), post)


def test_an_invoice_line_dated_past_the_allowance_or_before_2000_is_a_field_error(tenant):
    ana = ClientFactory(practice=tenant.practice)
    today = tenant.practice.local_today()

    too_far = new_invoice_with_line_date(tenant, ana, (today + timedelta(days=366)).isoformat())
    too_early = new_invoice_with_line_date(tenant, ana, "1999-12-31")

    latest = (today + timedelta(days=365)).isoformat()
    assert too_far.status_code == 400
    assert DATE_TOO_FAR_AHEAD.format(days=365, latest=latest) in too_far.content.decode()
    assert too_early.status_code == 400
    assert DATE_TOO_EARLY in too_early.content.decode()
    assert not Invoice.objects.filter(client=ana).exists()
    ok = new_invoice_with_line_date(tenant, ana, (today + timedelta(days=365)).isoformat())
    assert ok.status_code == 302
    assert Invoice.objects.get(client=ana).lines.get().date == today + timedelta(days=365)


# --- Settings > Billing details -------------------------------------------------------------


def test_the_allowances_are_edited_in_billing_details_with_validation(tenant):
    owner = signed_in(tenant.owner)
    details = url(tenant.practice, "billing:billing_details")

    bad = owner.post(details, details_post(tenant.practice, payment_date_max_future_days="5000"))
    assert bad.status_code == 400
    assert ss.FUTURE_DAYS_RANGE in bad.content.decode()

    ok = owner.post(
        details, details_post(tenant.practice, payment_date_max_future_days="2", invoice_date_max_future_days="30")
    )
    assert ok.status_code == 302
    practice = Practice.objects.get(pk=tenant.practice.pk)
    assert (practice.payment_date_max_future_days, practice.invoice_date_max_future_days) == (2, 30)


def test_new_practices_default_to_no_future_payments_and_a_year_of_invoices(tenant):
    practice = Practice.objects.get(pk=tenant.practice.pk)
    assert (practice.payment_date_max_future_days, practice.invoice_date_max_future_days) == (0, 365)


# --- appointments and the calendar ----------------------------------------------------------


@pytest.fixture
def booking(tenant):
    service = ServiceFactory(practice=tenant.practice, name="Individual therapy", price=Decimal("120.00"))
    ada = ClientFactory(practice=tenant.practice, first_name="Ada", clinicians=[tenant.clinician])
    return service, ada


@pytest.mark.parametrize("typed", ["9999-12-31", "0001-01-01"])
def test_booking_at_the_ends_of_the_calendar_is_a_field_error_not_a_500(tenant, booking, typed):
    service, ada = booking

    response = signed_in(tenant.owner).post(
        url(tenant.practice, "appointments:new"), form_post(tenant, [ada], [service], date=typed, start_time="23:30")
    )

    assert response.status_code == 400
    assert APPOINTMENT_TOO_FAR in response.content.decode()
    assert not Appointment.objects.exists()


def test_an_appointment_more_than_10_years_ahead_is_refused_and_within_is_booked(tenant, booking):
    service, ada = booking
    today = tenant.practice.local_today()
    owner = signed_in(tenant.owner)

    eleven = owner.post(
        url(tenant.practice, "appointments:new"),
        form_post(tenant, [ada], [service], date=date(today.year + 11, 6, 1).isoformat()),
    )
    nine = owner.post(
        url(tenant.practice, "appointments:new"),
        form_post(tenant, [ada], [service], date=date(today.year + 9, 6, 1).isoformat()),
    )

    assert eleven.status_code == 400 and APPOINTMENT_TOO_FAR in eleven.content.decode()
    assert nine.status_code == 302
    assert Appointment.objects.count() == 1


def test_editing_an_appointment_to_the_year_9999_is_a_field_error(tenant, booking):
    service, ada = booking
    owner = signed_in(tenant.owner)
    owner.post(url(tenant.practice, "appointments:new"), form_post(tenant, [ada], [service]))
    appointment = Appointment.objects.get()

    response = owner.post(
        url(tenant.practice, "appointments:edit", appointment_id=appointment.pk),
        form_post(tenant, [ada], [service], date="9999-12-31", start_time="23:30"),
    )

    assert response.status_code == 400
    assert APPOINTMENT_TOO_FAR in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.start.year == 2026


@pytest.mark.parametrize("view", ["week", "day"])
@pytest.mark.parametrize("typed", ["9999-12-31", "0001-01-01"])
def test_calendar_urls_outside_the_supported_range_are_not_found(tenant, view, typed):
    response = signed_in(tenant.owner).get(url(tenant.practice, "appointments:calendar"), {"view": view, "date": typed})

    assert response.status_code == 404


def test_the_new_appointment_page_for_the_last_day_is_not_found(tenant):
    response = signed_in(tenant.owner).get(url(tenant.practice, "appointments:new"), {"date": "9999-12-31"})

    assert response.status_code == 404


def test_the_calendar_still_shows_an_ordinary_far_date(tenant):
    response = signed_in(tenant.owner).get(url(tenant.practice, "appointments:calendar"), {"date": "2999-12-31"})

    assert response.status_code == 200


# --- date filters ---------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["9999-12-31", "0001-01-01"])
def test_the_audit_log_filter_at_the_ends_of_the_calendar_is_a_field_error(tenant, typed):
    response = signed_in(tenant.owner).get(url(tenant.practice, "audit_log"), {"date_from": typed, "date_to": typed})

    assert response.status_code == 200
    assert DATE_UNSUPPORTED in response.content.decode()


@pytest.mark.parametrize("name", ["billing:home", "billing:invoices", "billing:payments"])
def test_billing_filters_at_the_ends_of_the_calendar_are_field_errors(tenant, name):
    response = signed_in(tenant.biller).get(
        url(tenant.practice, name), {"date_from": "0001-01-01", "date_to": "9999-12-31"}
    )

    assert response.status_code in (200, 400)
    assert DATE_UNSUPPORTED in response.content.decode()


def test_invoice_all_with_a_range_at_the_ends_of_the_calendar_is_a_field_error(tenant):
    response = signed_in(tenant.biller).get(
        url(tenant.practice, "billing:invoice_all"), {"date_from": "0001-01-01", "date_to": "9999-12-31"}
    )

    assert response.status_code in (200, 400)
    assert DATE_UNSUPPORTED in response.content.decode()
