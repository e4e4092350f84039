"""Settings > Automations in the browser, on a laptop and on a 375 px phone: the owner sees
each daily job with its next run in the practice's time and its last runs with counts and
errors, and Run now runs today's run once. Saves automations-<width>.png."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from billing.models import Invoice, InvoiceCreationSetting
from practice.jobs import registered_jobs
from practice.models import JobRun
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.helpers import OFF_SCREEN, PHONE, SCROLLS_SIDEWAYS, assert_accessible, sign_in
from tests.factories import ClientFactory, issued_invoice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1366, PHONE["width"]])
def test_owner_reads_the_jobs_and_runs_one_now(page: Page, tenant, console_errors, width):
    practice = tenant.practice
    today = practice.local_today()
    # Given daily invoice creation, an invoice that became overdue today, and a reminders
    # run that failed yesterday
    InvoiceCreationSetting.objects.create(practice=practice, cadence="daily")
    invoice = issued_invoice(practice, ClientFactory(practice=practice), tenant.biller, "120.00")
    Invoice.objects.filter(pk=invoice.pk).update(due_date=today - timedelta(days=1))
    JobRun.objects.create(
        practice=practice,
        job="invoice_reminders",
        local_date=today - timedelta(days=1),
        status="failed",
        attempts=3,
        counts={"sent": 4, "skipped": 0, "failed": 1},
        error="1 reminder(s) failed: INV-0007: SMTPServerDisconnected: Connection unexpectedly closed",
    )
    page.set_viewport_size({"width": width, "height": 900 if width > 400 else PHONE["height"]})
    sign_in(page, tenant.owner.email)

    # When the owner opens Settings > Automations
    page.goto(f"/p/{practice.slug}/settings/automations/")

    # Then every registered job (billing's and AutoPay's) shows its next run in the practice's time
    jobs = page.get_by_test_id("automation")
    expect(jobs).to_have_count(len(registered_jobs()))
    for job in registered_jobs():
        expect(jobs.filter(has=page.get_by_role("heading", name=job.label, exact=True))).to_have_count(1)
    creation = jobs.filter(has=page.get_by_role("heading", name="Invoice creation"))
    tomorrow = (today + timedelta(days=1)).isoformat()
    expect(creation.get_by_test_id("next-run")).to_have_text(f"Next run: {tomorrow} 00:00")
    reminders = jobs.filter(has=page.get_by_role("heading", name="Invoice reminders"))
    expect(reminders.get_by_test_id("next-run")).to_contain_text(" 09:00")
    # and the failed run with its counts and error
    failed = reminders.get_by_test_id("job-run")
    expect(failed).to_contain_text("Failed (3 attempts)")
    expect(failed).to_contain_text("sent: 4")
    expect(failed).to_contain_text("INV-0007: SMTPServerDisconnected")

    # When she runs Overdue invoices now
    overdue = jobs.filter(has=page.get_by_role("heading", name="Overdue invoices"))
    overdue.get_by_role("button", name="Run now").click()

    # Then it ran for today, once, and its run lists the invoice that became overdue
    expect(page.get_by_text(f"Overdue invoices ran for {today.isoformat()}.")).to_be_visible()
    run = page.get_by_test_id("automation").filter(has=page.get_by_role("heading", name="Overdue invoices"))
    expect(run.get_by_test_id("job-run")).to_contain_text("became overdue: 1")
    assert JobRun.objects.filter(practice=practice, job="overdue_invoices").count() == 1

    # and nothing reaches past the screen's edges
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate(SCROLLS_SIDEWAYS) == []
    assert page.evaluate(OFF_SCREEN, width) == []
    assert_accessible(page, f"automations at {width} px")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"automations-{width}.png"), full_page=True)
    assert console_errors == []
