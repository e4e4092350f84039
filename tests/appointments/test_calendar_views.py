# ruff: noqa: RUF001  -- the pages write time ranges with an en dash, as "09:00-09:50" but with U+2013.
"""The calendar, the appointment form and the appointment flyout, as staff see them.

The practice is in America/New_York; appointments are stored in UTC and every time on a
page is the practice's wall-clock time.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments import forms as appointment_forms
from appointments import views as appointment_views
from appointments.models import Appointment, BillingDetail
from billing.models import BillingItem
from tests.appointments.helpers import NY, WEDNESDAY, at, form_post
from tests.factories import ClientFactory, ServiceFactory, invoice_for, make_appointment, past_start
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def ben(tenant):
    client = ClientFactory(practice=tenant.practice, first_name="Ben", last_name="Okafor")
    client.clinicians.add(tenant.clinician2)
    return client


def times_on_page(html: str) -> list[str]:
    return re.findall(r'data-testid="appointment-time">([^<]+)<', html)


# --- Calendar ------------------------------------------------------------------------


def test_week_view_shows_local_times_in_the_practice_timezone(tenant, service, ada):
    make_appointment(tenant.practice, tenant.owner, tenant.clinician, [ada], [service], at(WEDNESDAY, 9))
    assert Appointment.objects.get().start.astimezone(ZoneInfo("UTC")).hour == 13

    response = signed_in(tenant.owner).get(url(tenant.practice, "appointments:calendar") + "?date=2026-03-11")

    html = response.content.decode()
    assert response.status_code == 200
    assert times_on_page(html) == ["9:00 AM–9:50 AM"]
    assert "9 Mar – 15 Mar 2026" in html  # the week runs Monday to Sunday
    assert "Ada Lovelace" in html and "Individual therapy" in html
    assert "Times are in America/New_York." in html


def test_an_evening_appointment_sits_on_its_local_day(tenant, service, ada):
    # 21:30 on Sunday in New York is already Monday in UTC.
    make_appointment(tenant.practice, tenant.owner, tenant.clinician, [ada], [service], at(date(2026, 3, 15), 21, 30))

    html = signed_in(tenant.owner).get(url(tenant.practice, "appointments:calendar") + "?date=2026-03-11").content

    sunday = html.decode().split('data-date="2026-03-15"')[1]
    assert "9:30 PM–10:20 PM" in sunday


def test_day_view_shows_only_that_day(tenant, service, ada):
    make_appointment(tenant.practice, tenant.owner, tenant.clinician, [ada], [service], at(WEDNESDAY, 9))
    make_appointment(
        tenant.practice, tenant.owner, tenant.clinician, [ada], [service], at(WEDNESDAY + timedelta(days=1), 11)
    )

    html = (
        signed_in(tenant.owner)
        .get(url(tenant.practice, "appointments:calendar") + "?view=day&date=2026-03-12")
        .content.decode()
    )

    assert times_on_page(html) == ["11:00 AM–11:50 AM"]
    assert "Thursday 12 March 2026" in html


def test_navigation_links_swap_the_grid_with_htmx(tenant, service, ada):
    make_appointment(
        tenant.practice, tenant.owner, tenant.clinician, [ada], [service], at(WEDNESDAY + timedelta(days=7), 10)
    )
    client = signed_in(tenant.owner)

    page = client.get(url(tenant.practice, "appointments:calendar") + "?date=2026-03-11").content.decode()
    next_link = re.search(r'hx-get="([^"]+)"[^>]*rel="next"', page).group(1).replace("&amp;", "&")
    partial = client.get(next_link, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="calendar").content.decode()

    assert 'hx-push-url="true"' in page
    assert "date=2026-03-18" in next_link
    assert "<html" not in partial and 'id="calendar"' in partial
    assert times_on_page(partial) == ["10:00 AM–10:50 AM"]


def test_owner_filters_by_clinician(tenant, service, ada, ben):
    make_appointment(tenant.practice, tenant.owner, tenant.clinician, [ada], [service], at(WEDNESDAY, 9))
    make_appointment(tenant.practice, tenant.owner, tenant.clinician2, [ben], [service], at(WEDNESDAY, 14))
    client = signed_in(tenant.owner)
    base = url(tenant.practice, "appointments:calendar") + "?date=2026-03-11"

    everyone = client.get(base).content.decode()
    only_daniel = client.get(f"{base}&clinician={tenant.clinician2.pk}").content.decode()

    assert times_on_page(everyone) == ["9:00 AM–9:50 AM", "2:00 PM–2:50 PM"]
    assert times_on_page(only_daniel) == ["2:00 PM–2:50 PM"]
    assert "Ada Lovelace" not in only_daniel


def test_a_clinician_sees_only_their_own_calendar(tenant, service, ada, ben):
    make_appointment(tenant.practice, tenant.owner, tenant.clinician, [ada], [service], at(WEDNESDAY, 9))
    other = make_appointment(tenant.practice, tenant.owner, tenant.clinician2, [ben], [service], at(WEDNESDAY, 14))
    client = signed_in(tenant.clinician)

    html = client.get(
        url(tenant.practice, "appointments:calendar") + f"?date=2026-03-11&clinician={tenant.clinician2.pk}"
    ).content.decode()

    assert times_on_page(html) == ["9:00 AM–9:50 AM"]
    assert "Ben Okafor" not in html
    assert "Clara Test's calendar" in html
    # Another clinician's appointment is a 404, the same as one that does not exist.
    assert client.get(url(tenant.practice, "appointments:detail", appointment_id=other.pk)).status_code == 404


def _week_queries(client, practice) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url(practice, "appointments:calendar") + "?date=2026-03-11")
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_week_view_query_count_does_not_grow_with_appointments(
    tenant, service, ada, ben, django_assert_max_num_queries
):
    client = signed_in(tenant.owner)
    second = ServiceFactory(practice=tenant.practice, name="Report writing", price=Decimal("40"))
    for i in range(5):
        make_appointment(
            tenant.practice,
            tenant.owner,
            tenant.clinician,
            [ada, ben],
            [service, second],
            at(WEDNESDAY, 8) + timedelta(hours=i),
        )
    few = _week_queries(client, tenant.practice)
    for i in range(55):
        day = WEDNESDAY + timedelta(days=(i % 5) - 2)
        make_appointment(
            tenant.practice,
            tenant.owner,
            tenant.clinician2,
            [ben],
            [service],
            at(day, 8) + timedelta(minutes=15 * (i // 5)),
        )

    with django_assert_max_num_queries(few):
        response = client.get(url(tenant.practice, "appointments:calendar") + "?date=2026-03-11")

    assert len(times_on_page(response.content.decode())) == 60


# --- Appointment form ----------------------------------------------------------------


def test_clinician_books_an_appointment_with_the_services_duration(tenant, service, ada):
    client = signed_in(tenant.clinician)

    response = client.post(url(tenant.practice, "appointments:new"), form_post(tenant, [ada], [service]), follow=True)

    html = response.content.decode()
    assert "Appointment booked." in html
    assert times_on_page(html) == ["9:00 AM–9:50 AM"]
    appointment = Appointment.objects.get()
    assert appointment.start == at(WEDNESDAY, 9)
    assert appointment.duration_minutes == 50
    assert list(appointment.clients.all()) == [ada]


def test_a_clinician_is_offered_only_their_own_clients(tenant, ada, ben):
    html = signed_in(tenant.clinician).get(url(tenant.practice, "appointments:new")).content.decode()

    assert "Ada Lovelace" in html
    assert "Ben Okafor" not in html


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"duration_minutes": "0"}, appointment_forms.DURATION_POSITIVE),
        # A negative length would end before it starts.
        ({"duration_minutes": "-30"}, appointment_forms.DURATION_POSITIVE),
        ({"start_time": "25:00"}, "Enter a valid time."),
        ({"repeat": "weekly"}, appointment_forms.RECURRENCE_NEEDS_END),
        ({"repeat": "weekly", "until": "2026-03-01"}, appointment_forms.RECURRENCE_UNTIL_BEFORE_START),
        # 02:30 on the day the clocks go forward does not exist in New York.
        ({"date": "2026-03-08", "start_time": "02:30"}, "does not exist in America/New_York"),
    ],
)
def test_bad_appointment_input_shows_an_error_and_saves_nothing(tenant, service, ada, overrides, message):
    response = signed_in(tenant.owner).post(
        url(tenant.practice, "appointments:new"), form_post(tenant, [ada], [service], **overrides)
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Appointment.objects.exists()


def test_another_practices_client_or_service_is_refused(tenant, other_tenant, service, ada):
    foreign_client = ClientFactory(practice=other_tenant.practice)
    foreign_service = ServiceFactory(practice=other_tenant.practice)
    client = signed_in(tenant.owner)

    with_client = client.post(url(tenant.practice, "appointments:new"), form_post(tenant, [foreign_client], [service]))
    with_service = client.post(url(tenant.practice, "appointments:new"), form_post(tenant, [ada], [foreign_service]))

    for response, value in ((with_client, foreign_client.pk), (with_service, foreign_service.pk)):
        assert response.status_code == 400
        assert f"Select a valid choice. {value} is not one of the available choices." in response.content.decode()
    assert not Appointment.objects.exists()


def test_overlap_warns_and_needs_a_second_click(tenant, service, ada, ben):
    make_appointment(tenant.practice, tenant.owner, tenant.clinician, [ben], [service], at(WEDNESDAY, 9, 30))
    client = signed_in(tenant.owner)
    data = form_post(tenant, [ada], [service])

    first = client.post(url(tenant.practice, "appointments:new"), data)

    html = first.content.decode()
    assert first.status_code == 409
    assert 'data-testid="overlap-warning"' in html
    assert "Clara Test is already booked at this time" in html and "9:30 AM–10:20 AM" in html
    assert Appointment.objects.count() == 1
    token = re.search(r'name="confirm_overlap" value="([^"]+)"', html).group(1)

    # Changing the time after the warning asks again rather than trusting the old click.
    moved = client.post(
        url(tenant.practice, "appointments:new"), {**data, "start_time": "09:15", "confirm_overlap": token}
    )
    assert moved.status_code == 409
    second = client.post(url(tenant.practice, "appointments:new"), {**data, "confirm_overlap": token}, follow=True)

    assert "Appointment booked." in second.content.decode()
    assert Appointment.objects.count() == 2


def test_weekly_series_and_editing_this_and_following(tenant, service, ada):
    client = signed_in(tenant.owner)
    client.post(
        url(tenant.practice, "appointments:new"), form_post(tenant, [ada], [service], repeat="weekly", count="4")
    )
    occurrences = list(Appointment.objects.order_by("start"))
    assert [a.start.astimezone(NY).hour for a in occurrences] == [9, 9, 9, 9]
    edit = url(tenant.practice, "appointments:edit", appointment_id=occurrences[1].pk)

    page = client.get(edit).content.decode()
    missing_scope = client.post(edit, form_post(tenant, [ada], [service], date="2026-03-18", start_time="11:00"))
    client.post(edit, form_post(tenant, [ada], [service], date="2026-03-18", start_time="11:00", scope="following"))

    assert "This and following occurrences" in page
    assert appointment_forms.SCOPE_REQUIRED in missing_scope.content.decode()
    hours = [a.start.astimezone(NY).hour for a in Appointment.objects.order_by("start")]
    assert hours == [9, 11, 11, 11]


# --- Flyout / detail -----------------------------------------------------------------


def test_flyout_marks_completed_and_shows_the_uninvoiced_amount(tenant, service, ada):
    appointment = make_appointment(
        tenant.practice, tenant.owner, tenant.clinician, [ada], [service], past_start(tenant.practice)
    )
    client = signed_in(tenant.clinician)
    detail = url(tenant.practice, "appointments:detail", appointment_id=appointment.pk)

    flyout = client.get(detail, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="flyout").content.decode()
    assert "<html" not in flyout and 'data-testid="flyout"' in flyout
    assert 'data-testid="billing-state">No items<' in flyout
    assert appointment_views.INVOICING_LATER in flyout
    assert re.search(r"<button[^>]*disabled[^>]*>Create invoice</button>", flyout)
    assert re.search(r"<button[^>]*disabled[^>]*>Create invoice &amp; add payment</button>", flyout)

    response = client.post(url(tenant.practice, "appointments:complete", appointment_id=appointment.pk), follow=True)

    html = response.content.decode()
    assert "Marked completed. 1 billing item(s) created." in html
    assert 'data-testid="appointment-status">Completed<' in html
    assert 'data-testid="billing-state">Uninvoiced<' in html
    assert 'data-testid="uninvoiced-amount">$120.00<' in html


def test_a_biller_generates_missing_items_and_nothing_twice(tenant, service, ada):
    appointment = make_appointment(
        tenant.practice, tenant.owner, tenant.clinician, [ada], [service], past_start(tenant.practice)
    )
    signed_in(tenant.owner).post(url(tenant.practice, "appointments:complete", appointment_id=appointment.pk))
    biller = signed_in(tenant.biller)

    response = biller.post(
        url(tenant.practice, "appointments:generate_items", appointment_id=appointment.pk), follow=True
    )
    refused = biller.post(url(tenant.practice, "appointments:complete", appointment_id=appointment.pk))

    assert "0 missing billing item(s) created." in response.content.decode()
    assert BillingItem.objects.filter(appointment=appointment).count() == 1
    # A biller works on billing, not on the schedule.
    assert refused.status_code == 403


def test_a_future_appointment_cannot_be_completed(tenant, service, ada):
    appointment = make_appointment(
        tenant.practice, tenant.owner, tenant.clinician, [ada], [service], at(date.today() + timedelta(days=3), 10)
    )

    response = signed_in(tenant.owner).post(
        url(tenant.practice, "appointments:complete", appointment_id=appointment.pk), follow=True
    )

    assert "has not started yet" in response.content.decode()
    assert not BillingItem.objects.exists()


def test_cancel_with_invoiced_items_is_refused_with_the_credit_invoice_message(tenant, service, ada):
    appointment = make_appointment(
        tenant.practice, tenant.owner, tenant.clinician, [ada], [service], past_start(tenant.practice)
    )
    client = signed_in(tenant.owner)
    client.post(url(tenant.practice, "appointments:complete", appointment_id=appointment.pk))
    invoice_for(BillingItem.objects.get())

    response = client.post(
        url(tenant.practice, "appointments:cancel", appointment_id=appointment.pk), {"late": "0"}, follow=True
    )

    assert "Issue a credit invoice" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.COMPLETED


def test_late_cancel_records_the_status(tenant, service, ada):
    appointment = make_appointment(
        tenant.practice, tenant.owner, tenant.clinician, [ada], [service], past_start(tenant.practice)
    )

    response = signed_in(tenant.owner).post(
        url(tenant.practice, "appointments:cancel", appointment_id=appointment.pk), {"late": "1"}, follow=True
    )

    assert "Late cancellation recorded." in response.content.decode()
    assert 'data-testid="appointment-status">Late-cancelled<' in response.content.decode()


def test_billing_detail_edit_flows_to_the_uninvoiced_item(tenant, service, ada):
    appointment = make_appointment(
        tenant.practice, tenant.owner, tenant.clinician, [ada], [service], past_start(tenant.practice)
    )
    client = signed_in(tenant.owner)
    client.post(url(tenant.practice, "appointments:complete", appointment_id=appointment.pk))
    detail = BillingDetail.objects.get(appointment=appointment)
    edit = url(tenant.practice, "billing:billing_detail_edit", appointment_id=appointment.pk, detail_id=detail.pk)

    bad = client.post(edit, {"units": "0", "unit_price": "90", "tax_percent": "0"})
    response = client.post(edit, {"units": "2", "unit_price": "90", "tax_percent": "0"}, follow=True)

    assert bad.status_code == 400
    assert "Billing details saved." in response.content.decode()
    assert 'data-testid="uninvoiced-amount">$180.00<' in response.content.decode()
    assert BillingItem.objects.get().amount == Decimal("180.000")


def test_the_calendar_of_a_practice_with_one_member_names_them():
    # Given the demo's Kowhai practice, whose only member is its owner
    from django.core.management import call_command

    from practice.models import User

    call_command("demo_data")
    owner = User.objects.get(email="owner@kowhai.example")

    html = signed_in(owner).get("/p/kowhai/calendar/").content.decode()

    owner_line = html.split('data-testid="calendar-owner">')[1].split("<")[0]
    assert owner_line == "Mere Ngata's calendar"
