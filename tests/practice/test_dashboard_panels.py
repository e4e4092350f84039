"""The dashboard's panels (issue 12): today's schedule, what is left to do with links to the
lists, and billed and collected per week as an SVG chart with a table of the figures."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appointments.services import appointment_cancel
from billing.models import Invoice
from tests.factories import ClientFactory, ServiceFactory, give_credit, issued_invoice, make_appointment, make_item
from tests.factories.billing import pay
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db


def dashboard(user, practice) -> str:
    return signed_in(user).get(reverse("dashboard", kwargs={"practice_slug": practice.slug})).content.decode()


def today_at(practice, hour: int):
    return practice.local_now().replace(hour=hour, minute=0, second=0, microsecond=0)


def schedule_rows(page: str) -> list[str]:
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
        for row in re.findall(r'data-testid="schedule-row">(.*?)</li>', page, re.S)
    ]


@pytest.fixture
def day(tenant):
    """Two clinicians' sessions today, one cancelled, and one of Clara's from yesterday
    left scheduled."""
    practice = tenant.practice
    service = ServiceFactory(practice=practice, price=Decimal("120.00"))
    ana = ClientFactory(practice=practice, first_name="Ana", last_name="Smith")
    ben = ClientFactory(practice=practice, first_name="Ben", last_name="Jones")
    cleo = ClientFactory(practice=practice, first_name="Cleo", last_name="Park")
    make_appointment(practice, tenant.owner, tenant.clinician2, [ben], [service], start=today_at(practice, 11))
    make_appointment(practice, tenant.owner, tenant.clinician, [ana], [service], start=today_at(practice, 9))
    cancelled = make_appointment(
        practice, tenant.owner, tenant.clinician, [cleo], [service], start=today_at(practice, 13)
    )
    appointment_cancel(appointment=cancelled, actor=tenant.owner, late=False)
    make_appointment(
        practice, tenant.owner, tenant.clinician, [cleo], [service], start=today_at(practice, 10) - timedelta(days=1)
    )
    return service


def test_owners_see_everyones_schedule_clinicians_their_own_billers_none(tenant, day):
    practice = tenant.practice
    owner = schedule_rows(dashboard(tenant.owner, practice))
    assert owner == [
        "09:00–09:50 Ana Smith Clara Test · Scheduled",  # noqa: RUF001
        "11:00–11:50 Ben Jones Daniel Test · Scheduled",  # noqa: RUF001
    ]
    assert schedule_rows(dashboard(tenant.clinician, practice)) == ["09:00–09:50 Ana Smith Scheduled"]  # noqa: RUF001
    biller = dashboard(tenant.biller, practice)
    assert 'data-testid="schedule"' not in biller


def test_work_left_links_to_each_filtered_list(tenant, day):
    practice = tenant.practice
    ana = ClientFactory(practice=practice, first_name="Ana", last_name="Lima")
    make_item(practice, ana, "80.00", days_ago=2)
    late = issued_invoice(practice, ana, tenant.owner, "100.00")
    Invoice.objects.filter(pk=late.pk).update(due_date=practice.local_today() - timedelta(days=1))
    issued_invoice(practice, ana, tenant.owner, "50.00")  # not due yet
    give_credit(practice, ClientFactory(practice=practice), tenant.owner, "30.00")

    page = dashboard(tenant.biller, practice)
    items = dict(
        (label.strip(), (count, amount, href))
        for href, count, label, amount in re.findall(
            r'data-testid="work-item"><a href="([^"]+)"><span class="dash-count">(\d+)</span> ([^<]+?)'
            r'(?: <span class="dash-amount">([^<]+)</span>)?</a>',
            page,
        )
    )
    base = f"/p/{practice.slug}"
    assert items == {
        "Sessions not yet completed": ("1", "", items["Sessions not yet completed"][2]),
        "Sessions not yet billed": ("1", "$80.00", f"{base}/billing/"),
        "Overdue invoices": ("1", "$100.00", f"{base}/billing/invoices/?status=overdue"),
        "Credit to apply": ("1", "$30.00", f"{base}/billing/credits/?status=issued"),
    }
    # A clinician's list is their own sessions to mark, and no money.
    mine = dashboard(tenant.clinician, practice)
    assert "Sessions not yet completed" in mine and "Overdue invoices" not in mine
    assert '<span class="dash-count">1</span> Sessions not yet completed' in mine
    assert '<span class="dash-count">0</span> Sessions not yet completed' in dashboard(tenant.clinician2, practice)


def test_the_weekly_chart_draws_billed_and_collected_with_a_table_of_the_figures(tenant):
    practice = tenant.practice
    ana = ClientFactory(practice=practice)
    issued_invoice(practice, ana, tenant.owner, "100.00", "50.00")
    pay(practice, ana, tenant.owner, "60.00")

    page = dashboard(tenant.owner, practice)
    chart = re.search(r'<svg class="dash-bars" viewBox="0 0 (\d+) (\d+)"(.*?)</svg>', page, re.S)
    assert chart
    bars = re.findall(
        r'class="dash-bar dash-bar-(billed|collected)" x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"',
        chart.group(3),
    )
    assert len(bars) == 24
    heights = [(series, float(h)) for series, h in bars]
    # This week, the last pair: billed is the tallest bar, collected 60/150 of it.
    (_, billed), (_, collected) = heights[-2:]
    assert billed > 0 and collected == pytest.approx(billed * 0.4, abs=0.2)
    assert all(h == 0 for _series, h in heights[:-2])

    table = re.search(r'<div class="visually-hidden"><table data-testid="weekly-table">(.*?)</table>', page, re.S)
    assert table
    rows = re.findall(r"<tr><th scope=\"row\">([^<]+)</th><td>([^<]+)</td><td>([^<]+)</td></tr>", table.group(1))
    assert len(rows) == 12
    assert rows[-1][1:] == ("$150.00", "$60.00")
    assert all(row[1:] == ("$0.00", "$0.00") for row in rows[:-1])


def test_clinicians_see_no_money_chart(tenant):
    assert 'data-testid="weekly-chart"' not in dashboard(tenant.clinician, tenant.practice)


def count_queries(user, practice) -> int:
    client = signed_in(user)
    url = reverse("dashboard", kwargs={"practice_slug": practice.slug})
    client.get(url)  # the first visit records the practice on the user; count a later one
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_dashboard_reads_a_fixed_number_of_queries(tenant):
    practice = tenant.practice
    service = ServiceFactory(practice=practice)

    def add_day_of_work(hour: int) -> None:
        client = ClientFactory(practice=practice)
        make_appointment(practice, tenant.owner, tenant.clinician, [client], [service], start=today_at(practice, hour))
        make_item(practice, client, "40.00", days_ago=3)
        issued_invoice(practice, client, tenant.owner, "100.00")
        pay(practice, client, tenant.owner, "20.00")
        give_credit(practice, client, tenant.owner, "10.00")

    add_day_of_work(8)
    few = {user.email: count_queries(user, practice) for user in (tenant.owner, tenant.clinician, tenant.biller)}
    for hour in range(9, 15):
        add_day_of_work(hour)
    many = {user.email: count_queries(user, practice) for user in (tenant.owner, tenant.clinician, tenant.biller)}
    assert few == many
    assert max(many.values()) <= 16
