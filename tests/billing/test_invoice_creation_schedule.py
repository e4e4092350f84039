"""Invoice creation on the scheduler (issue 16 parts 1, 2 and 6): days missed while the
machine was off are invoiced afterwards as they would have been, one invoice per day; a
cadence turned on or changed does not reach back; Automations shows the next run."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import time_machine

from billing import services
from billing.models import Invoice, InvoiceCreationSetting
from practice.models import AuditLog, JobRun
from practice.tasks import jobs_tick
from tests.factories import ClientFactory, make_item
from tests.helpers import signed_in, url
from tests.practice.helpers import page_text

pytestmark = pytest.mark.django_db

JOB = "invoice_creation"
WEDNESDAY = date(2026, 12, 2)


def local(practice, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=practice.tzinfo)


def choose(practice, cadence, weekday=None):
    return services.invoice_creation_setting_save(
        practice=practice,
        actor=practice.memberships.first().user,
        cadence=cadence,
        weekday=weekday,
        send_automatically=False,
    )


def items_by_invoice(client) -> list[list[date]]:
    return [
        sorted(invoice.billing_items.values_list("date", flat=True))
        for invoice in Invoice.objects.filter(client=client).order_by("pk")
    ]


def runs(practice) -> list[tuple[date, str, int]]:
    return [
        (run.local_date, run.status, run.counts.get("invoices", 0))
        for run in JobRun.objects.filter(practice=practice, job=JOB).order_by("local_date")
    ]


def test_days_missed_while_the_machine_was_off_make_the_invoices_of_each_day(tenant):
    practice = tenant.practice
    ana = ClientFactory(practice=practice)
    # Given Daily since November, and the run of Sunday 29 November done
    with time_machine.travel(local(practice, date(2026, 11, 20), 9), tick=False):
        choose(practice, "daily")
    JobRun.objects.create(practice=practice, job=JOB, local_date=date(2026, 11, 29), status="succeeded")
    make_item(practice, ana, "90", on=date(2026, 11, 30))
    make_item(practice, ana, "60", on=date(2026, 12, 1))
    make_item(practice, ana, "40", on=date(2026, 12, 1))
    make_item(practice, ana, "70", on=WEDNESDAY)

    # When the machine, off since Monday evening, is back at 00:10 on Thursday
    with time_machine.travel(local(practice, WEDNESDAY + timedelta(days=1), 0, 10), tick=False):
        jobs_tick.delay()
        jobs_tick.delay()

    # Then Monday's, Tuesday's and Wednesday's runs each made that day's invoice, once
    assert items_by_invoice(ana) == [
        [date(2026, 11, 30)],
        [date(2026, 12, 1), date(2026, 12, 1)],
        [WEDNESDAY],
    ]
    assert runs(practice) == [
        (date(2026, 11, 29), "succeeded", 0),
        (date(2026, 11, 30), "succeeded", 1),
        (date(2026, 12, 1), "succeeded", 1),
        (WEDNESDAY, "succeeded", 1),
    ]


def test_a_cadence_turned_on_today_does_not_reach_back(tenant):
    practice = tenant.practice
    ana = ClientFactory(practice=practice)
    # Given a run from an earlier time invoice creation was on, then Off, and Daily chosen
    # again on Wednesday morning with three days of items waiting
    JobRun.objects.create(practice=practice, job=JOB, local_date=date(2026, 11, 1), status="succeeded")
    for day in (date(2026, 11, 30), date(2026, 12, 1), WEDNESDAY):
        make_item(practice, ana, on=day)
    with time_machine.travel(local(practice, WEDNESDAY, 10), tick=False):
        choose(practice, "daily")

    with time_machine.travel(local(practice, WEDNESDAY + timedelta(days=1), 0, 10), tick=False):
        jobs_tick.delay()

    # Then Wednesday's run makes one invoice of everything up to Wednesday, not three
    assert items_by_invoice(ana) == [[date(2026, 11, 30), date(2026, 12, 1), WEDNESDAY]]
    assert runs(practice) == [(date(2026, 11, 1), "succeeded", 0), (WEDNESDAY, "succeeded", 1)]


def test_saving_the_setting_unchanged_keeps_its_time(tenant):
    practice = tenant.practice
    with time_machine.travel(local(practice, date(2026, 11, 20), 9), tick=False):
        choose(practice, "weekly", weekday=4)
    before = InvoiceCreationSetting.objects.get(practice=practice).updated_at
    with time_machine.travel(local(practice, WEDNESDAY, 9), tick=False):
        browser = signed_in(tenant.owner)
        response = browser.post(url(tenant, "billing:invoice_creation"), {"cadence": "weekly", "weekday": "4"})
    assert response.status_code == 302
    assert InvoiceCreationSetting.objects.get(practice=practice).updated_at == before
    assert AuditLog.objects.filter(action="practice.invoice_creation_changed").count() == 1


@pytest.mark.parametrize(
    ("cadence", "weekday", "shown"),
    [
        ("daily", None, '<time datetime="2026-12-03T00:00:00-05:00">2026-12-03 00:00</time>'),
        # Friday's run, at the midnight that ends Friday 4 December
        ("weekly", 4, '<time datetime="2026-12-05T00:00:00-05:00">2026-12-05 00:00</time>'),
        # The 1st of January's, at the midnight that ends it
        ("monthly", None, '<time datetime="2027-01-02T00:00:00-05:00">2027-01-02 00:00</time>'),
        ("off", None, "Next run: Off"),
    ],
)
def test_automations_shows_invoice_creations_next_run_in_local_time(tenant, cadence, weekday, shown):
    with time_machine.travel(local(tenant.practice, WEDNESDAY, 10), tick=False):
        choose(tenant.practice, cadence, weekday)
        page = page_text(signed_in(tenant.owner).get(url(tenant, "automations")))
    section = page[page.index('id="job-invoice_creation"') :]
    section = section[: section.index("</section>")]
    assert shown in section
