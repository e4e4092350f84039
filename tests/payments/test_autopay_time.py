"""Issue 16, part 8, for AutoPay: "tonight" is the practice's own local date. A practice in
New York and one in Auckland, each with a client on AutoPay; the beat's tick (run here
in-process, as the worker would) charges each in its own 12 AM to 6 AM, crossing local
midnight, and the nights when the clocks change."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from clients.autopay import autopay_night_next
from payments import autopay_night
from payments.autopay_night import autopay_window_night
from payments.models import AutoPayCharge
from practice.jobs import jobs_due
from practice.models import JobRun, Practice
from practice.tasks import jobs_tick
from tests.conftest import build_tenant
from tests.factories import issued_invoice

from .autopay_helpers import enrolled_client, intent_posts, succeeded_by_customer, takes_charges

pytestmark = pytest.mark.django_db

UTC = ZoneInfo("UTC")
NEW_YORK = ZoneInfo("America/New_York")
AUCKLAND = ZoneInfo("Pacific/Auckland")


@pytest.fixture(autouse=True)
def fast_pace(settings):
    settings.AUTOPAY_CHARGES_PER_SECOND = 1000


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def autopay_due(practice) -> list[tuple[str, date]]:
    return [(job, day) for pk, job, day in jobs_due() if pk == practice.pk and job.startswith("autopay")]


def test_each_practice_charges_in_its_own_night(app_on_fake, tenant, time_machine):
    new_york = tenant.practice
    auckland = build_tenant("kauri", "Kauri Counselling", "kauri.test", timezone="Pacific/Auckland").practice
    takes_charges(app_on_fake, new_york)
    takes_charges(app_on_fake, auckland)
    # 5 March 00:00 UTC: 7 PM on the 4th in New York, 1 PM on the 5th in Auckland.
    time_machine.move_to(utc("2026-03-05T00:00:00"), tick=True)
    ana, _ = enrolled_client(app_on_fake, new_york)
    issued_invoice(new_york, ana, tenant.biller, "100.00")
    kiri, _ = enrolled_client(app_on_fake, auckland, first="Kiri", last="Ngata")
    issued_invoice(auckland, kiri, tenant.biller, "70.00")

    # 04:50 UTC: 11:50 PM on the 4th in New York (not yet its night), 5:50 PM in Auckland.
    time_machine.move_to(utc("2026-03-05T04:50:00"), tick=False)
    assert autopay_due(new_york) == [("autopay_evening", date(2026, 3, 4))]
    assert autopay_due(auckland) == []
    # 05:10 UTC: 12:10 AM on the 5th in New York (its night of the 5th), 6:10 PM in Auckland.
    time_machine.move_to(utc("2026-03-05T05:10:00"), tick=False)
    assert ("autopay_night", date(2026, 3, 5)) in autopay_due(new_york)
    assert autopay_due(auckland) == [("autopay_evening", date(2026, 3, 5))]

    time_machine.move_to(utc("2026-03-05T05:10:00"), tick=True)
    jobs_tick.delay()

    charge = AutoPayCharge.objects.get()
    assert (charge.client, charge.night, charge.status) == (ana, date(2026, 3, 5), "succeeded")
    assert JobRun.objects.get(practice=new_york, job=autopay_night.NIGHT_JOB).local_date == date(2026, 3, 5)
    # Auckland's evening before its night of the 6th: Kiri was told tonight's amount.
    assert JobRun.objects.get(practice=auckland, job=autopay_night.EVENING_JOB).local_date == date(2026, 3, 5)

    # 11:10 UTC: 6:10 AM in New York (its window closed), 12:10 AM on the 6th in Auckland.
    time_machine.move_to(utc("2026-03-05T11:10:00"), tick=True)
    assert ("autopay_night", date(2026, 3, 6)) in autopay_due(auckland)
    assert not [day for job, day in autopay_due(new_york) if job == "autopay_night"]
    jobs_tick.delay()

    kiri_charge = AutoPayCharge.objects.get(client=kiri)
    assert (kiri_charge.night, kiri_charge.status, kiri_charge.amount) == (date(2026, 3, 6), "succeeded", Decimal(70))
    assert AutoPayCharge.objects.count() == 2 and len(intent_posts(app_on_fake)) == 2
    assert sorted(succeeded_by_customer(app_on_fake).values()) == [1, 1]


@pytest.mark.parametrize(
    ("zone", "local", "night"),
    [
        # New York springs forward at 2 AM on 8 March 2026: a five-hour window.
        ("America/New_York", "2026-03-07T23:59:00", None),
        ("America/New_York", "2026-03-08T00:00:00", date(2026, 3, 8)),
        ("America/New_York", "2026-03-08T03:30:00", date(2026, 3, 8)),
        ("America/New_York", "2026-03-08T05:59:00", date(2026, 3, 8)),
        ("America/New_York", "2026-03-08T06:00:00", None),
        # Auckland falls back at 3 AM on 5 April 2026: a seven-hour window.
        ("Pacific/Auckland", "2026-04-05T02:30:00", date(2026, 4, 5)),
        ("Pacific/Auckland", "2026-04-05T05:30:00", date(2026, 4, 5)),
        ("Pacific/Auckland", "2026-04-05T06:00:00", None),
    ],
)
def test_the_night_window_in_local_time_across_a_clock_change(zone, local, night):
    practice = Practice(timezone=zone)
    moment = datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(zone))
    # Read through UTC, as the beat ticks: the practice's zone gives the local time.
    with time_machine.travel(moment.astimezone(UTC), tick=False):
        assert autopay_window_night(timezone.localtime(timezone.now(), practice.tzinfo)) == night
        if night is not None:
            # Inside the window the portal's "tonight" is the same night.
            assert autopay_night_next(practice) == night


def test_on_the_night_new_york_springs_forward_invoices_up_to_local_midnight_are_charged(
    app_on_fake, tenant, time_machine
):
    practice = tenant.practice
    takes_charges(app_on_fake, practice)
    time_machine.move_to(datetime(2026, 3, 7, 12, 0, tzinfo=NEW_YORK), tick=True)
    ana, _ = enrolled_client(app_on_fake, practice)
    # 11:59 PM EST on the 7th is before the night of the 8th began; 12:01 AM is after.
    time_machine.move_to(datetime(2026, 3, 7, 23, 59, tzinfo=NEW_YORK), tick=False)
    before = issued_invoice(practice, ana, tenant.biller, "100.00")
    time_machine.move_to(datetime(2026, 3, 8, 0, 1, tzinfo=NEW_YORK), tick=False)
    after = issued_invoice(practice, ana, tenant.biller, "40.00")

    # 3:30 AM EDT, after the clocks went forward: still the night of the 8th.
    time_machine.move_to(datetime(2026, 3, 8, 3, 30, tzinfo=NEW_YORK), tick=True)
    assert ("autopay_night", date(2026, 3, 8)) in autopay_due(practice)
    jobs_tick.delay()

    charge = AutoPayCharge.objects.get()
    assert (charge.night, charge.amount, charge.status) == (date(2026, 3, 8), Decimal("100.00"), "succeeded")
    before.refresh_from_db()
    after.refresh_from_db()
    assert before.balance == 0 and after.balance == Decimal("40.00")
    # The night after charges what came during the night of the 8th.
    time_machine.move_to(datetime(2026, 3, 9, 0, 30, tzinfo=NEW_YORK), tick=True)
    jobs_tick.delay()
    assert AutoPayCharge.objects.get(night=date(2026, 3, 9)).amount == Decimal("40.00")


def test_a_practice_without_autopay_has_no_nightly_run(tenant, time_machine):
    time_machine.move_to(datetime(2026, 3, 5, 1, 0, tzinfo=NEW_YORK), tick=False)
    assert autopay_due(tenant.practice) == []
