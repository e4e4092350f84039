"""Overdue at the start of the practice's local day (issue 16 parts 5 and 8): an invoice
due yesterday reads Overdue from 00:00 in the practice's time zone and not a minute
before, on the invoice page, in the Billing page's Overdue filter and totals, across the
23-hour and 25-hour days of New York and Auckland; the Overdue invoices job, due at that
midnight, records how many became overdue."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from billing import selectors
from billing.models import Invoice
from practice import jobs
from practice.models import JobRun
from tests.factories import ClientFactory, issued_invoice
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db

UTC = ZoneInfo("UTC")
JOB = "overdue_invoices"


def status_on_page(browser, tenant, invoice) -> str:
    page = browser.get(url(tenant, "billing:invoice", invoice_id=invoice.pk)).content.decode()
    start = page.index('data-testid="invoice-status">') + len('data-testid="invoice-status">')
    return page[start : page.index("<", start)]


def in_overdue_filter(browser, tenant, invoice) -> bool:
    page = browser.get(url(tenant, "billing:invoices") + "?status=overdue").content.decode()
    return f"{invoice.number}</a>" in page


@pytest.mark.parametrize(
    ("zone", "due", "overdue_from_utc"),
    [
        # Due on New York's 23-hour day (clocks forward): overdue from 00:00 EDT on the 9th
        ("America/New_York", date(2026, 3, 8), datetime(2026, 3, 9, 4, 0, tzinfo=UTC)),
        # Due on its 25-hour day (clocks back): overdue from 00:00 EST on the 2nd
        ("America/New_York", date(2026, 11, 1), datetime(2026, 11, 2, 5, 0, tzinfo=UTC)),
        # Due on Auckland's 25-hour day (clocks back): from 00:00 NZST on the 6th
        ("Pacific/Auckland", date(2026, 4, 5), datetime(2026, 4, 5, 12, 0, tzinfo=UTC)),
        # Due on its 23-hour day (clocks forward): from 00:00 NZDT on the 28th
        ("Pacific/Auckland", date(2026, 9, 27), datetime(2026, 9, 27, 11, 0, tzinfo=UTC)),
    ],
)
def test_an_invoice_due_yesterday_is_overdue_from_local_midnight_and_not_before(tenant, zone, due, overdue_from_utc):
    practice = tenant.practice
    practice.timezone = zone
    practice.save(update_fields=["timezone"])
    # The local midnight that ends the due date is the instant the scenario names
    assert datetime.combine(due + timedelta(days=1), time.min, tzinfo=ZoneInfo(zone)) == overdue_from_utc
    ana = ClientFactory(practice=practice)
    invoice = issued_invoice(practice, ana, tenant.biller, "120.00")
    Invoice.objects.filter(pk=invoice.pk).update(issue_date=due - timedelta(days=14), due_date=due)
    invoice.refresh_from_db()

    with time_machine.travel(overdue_from_utc - timedelta(minutes=1), tick=False) as traveller:
        browser = signed_in(tenant.biller)
        # One minute before local midnight: still open
        assert status_on_page(browser, tenant, invoice) == "Open"
        assert not in_overdue_filter(browser, tenant, invoice)
        assert selectors.billing_totals(practice).overdue_count == 0
        assert [name for pk, name, _day in jobs.jobs_due() if pk == practice.pk and name == JOB] == [JOB]

        traveller.shift(timedelta(minutes=1))
        # At 00:00 local: overdue everywhere it is shown
        assert status_on_page(browser, tenant, invoice) == "Overdue"
        assert in_overdue_filter(browser, tenant, invoice)
        assert selectors.billing_totals(practice).overdue_count == 1
        # and the Overdue invoices job is due for the new local date, and counts it
        local_day = due + timedelta(days=1)
        assert (practice.pk, JOB, local_day) in jobs.jobs_due()
        run = jobs.job_run(practice_id=practice.pk, job_name=JOB, local_date=local_day)
    assert run is not None and run.counts == {"became_overdue": 1, "overdue": 1}
    assert JobRun.objects.filter(practice=practice, job=JOB, local_date=local_day).count() == 1


def test_the_job_counts_only_the_days_newcomers_and_only_what_still_owes(tenant):
    practice = tenant.practice
    ana = ClientFactory(practice=practice)
    day = date(2026, 12, 2)

    def invoice_due(on: date, amount: str = "100.00") -> Invoice:
        invoice = issued_invoice(practice, ana, tenant.biller, amount)
        Invoice.objects.filter(pk=invoice.pk).update(issue_date=on - timedelta(days=14), due_date=on)
        invoice.refresh_from_db()
        return invoice

    invoice_due(day - timedelta(days=1))  # became overdue today
    invoice_due(day - timedelta(days=1))  # and another
    invoice_due(day - timedelta(days=5))  # overdue since earlier
    invoice_due(day)  # due today: not overdue yet
    paid = invoice_due(day - timedelta(days=1))
    Invoice.objects.filter(pk=paid.pk).update(status="paid", amount_paid=paid.total, balance=0)

    assert selectors.overdue_on(practice, day) == {"became_overdue": 2, "overdue": 3}
