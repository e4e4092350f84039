"""The reports in a real browser, at desktop and phone widths: the owner and a clinician
open each report from the main navigation, change its date range and download its CSV;
a clinician sees only their own sessions' share. No accessibility violations, nothing
wider than the screen. Figures are those of tests/reports/story.py."""

from __future__ import annotations

import csv
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import OFF_SCREEN, SCROLLS_SIDEWAYS, assert_accessible, sign_in
from tests.reports.story import build_story

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _open(page: Page, label: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    page.get_by_test_id("report-list").get_by_role("link", name=label).click()
    expect(page.get_by_role("heading", level=1, name=label)).to_be_visible()


def _dates(page: Page, start: str, end: str) -> None:
    page.get_by_label("From").fill(start)
    page.get_by_label("To", exact=True).fill(end)
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state()


def _csv(page: Page) -> list[list[str]]:
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8", newline="") as file:
        return list(csv.reader(file))


def _fits(page: Page, width: int, label: str) -> None:
    assert page.evaluate(SCROLLS_SIDEWAYS) == [], label
    assert page.evaluate(OFF_SCREEN, width) == [], label
    assert_accessible(page, label)


@pytest.mark.parametrize("width", [1366, 375])
def test_the_owner_reads_changes_and_downloads_each_report(page: Page, tenant, console_errors, width):
    story = build_story(tenant)
    today = story.today
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, tenant.owner.email)

    _open(page, "Aging")
    expect(page.get_by_test_id("aging-total")).to_have_text("$450.00")
    expect(page.get_by_test_id("aging-row")).to_have_count(3)
    expect(page.get_by_role("img", name="Owed by age of invoice. The figures are in the table below.")).to_be_visible()
    _fits(page, width, "aging")
    _dates(page, (today - timedelta(days=50)).isoformat(), today.isoformat())
    expect(page.get_by_test_id("aging-total")).to_have_text("$330.00")
    expect(page.get_by_test_id("aging-row")).to_have_count(2)
    assert _csv(page)[-1] == ["Total", "2", "160.00", "170.00", "0.00", "0.00", "330.00"]

    _open(page, "Revenue")
    expect(page.get_by_test_id("total-invoiced")).to_have_text("$720.00")
    _fits(page, width, "revenue")
    _dates(page, (today - timedelta(days=30)).isoformat(), today.isoformat())
    # Cara's 320.00 and the typed 80.00 were invoiced in these 30 days; Ben's cash was not.
    expect(page.get_by_test_id("total-invoiced")).to_have_text("$400.00")
    expect(page.get_by_test_id("total-collected")).to_have_text("$160.00")
    rows = _csv(page)
    assert ["Month", "Total", "400.00", "30.00", "80.00", "290.00", "160.00", "20.00", "140.00"] in rows
    assert ["Clinician", "Daniel Test", "200.00", "0.00", "0.00", "200.00", "100.00", "20.00", "80.00"] in rows

    _open(page, "Payments")
    _dates(page, (today - timedelta(days=60)).isoformat(), today.isoformat())
    expect(page.get_by_test_id("total-received")).to_have_text("$210.00")
    expect(page.get_by_test_id("total-fees")).to_have_text("$4.94")
    _fits(page, width, "payments")
    assert _csv(page)[-1] == ["Total", "Total", "2", "210.00", "20.00", "4.94", "185.06"]

    _open(page, "Outstanding balances and credits")
    expect(page.get_by_test_id("total-owed")).to_have_text("$450.00")
    expect(page.get_by_test_id("total-credit")).to_have_text("$30.00")
    _fits(page, width, "balances")
    # From after To: a message by the field, and no figures.
    _dates(page, today.isoformat(), (today - timedelta(days=1)).isoformat())
    expect(page.get_by_test_id("filter-error")).to_have_text("The From date is after the To date.")
    expect(page.get_by_test_id("total-owed")).to_have_count(0)
    expect(page.get_by_role("link", name="Export CSV")).to_have_count(0)
    _fits(page, width, "balances refused")
    page.get_by_role("link", name="All open invoices").click()
    expect(page.get_by_test_id("total-owed")).to_have_text("$450.00")
    assert ["Ana Smith", "1", (today - timedelta(days=100)).isoformat(), "120.00", "120.00", "30.00", "90.00"] in (
        _csv(page)
    )
    # The refused filters answered 400 on purpose (the browser logs that); nothing else went wrong.
    assert [e for e in console_errors if "favicon" not in e and "status of 400" not in e] == []


@pytest.mark.parametrize("width", [1366, 375])
def test_a_clinician_reads_only_their_own_figures(page: Page, tenant, console_errors, width):
    story = build_story(tenant)
    today = story.today
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, tenant.clinician.email)

    _open(page, "Aging")
    expect(page.get_by_test_id("aging-total")).to_have_text("$180.00")
    expect(page.get_by_test_id("aging-row")).to_have_count(2)
    expect(page.get_by_text("Ben Jones")).to_have_count(0)
    expect(page.get_by_label("Clinician")).to_have_count(0)
    _fits(page, width, "clinician aging")
    assert _csv(page)[-1] == ["Total", "2", "60.00", "0.00", "0.00", "120.00", "180.00"]

    _open(page, "Revenue")
    _dates(page, (today - timedelta(days=120)).isoformat(), today.isoformat())
    expect(page.get_by_test_id("total-invoiced")).to_have_text("$240.00")
    expect(page.get_by_test_id("total-collected")).to_have_text("$60.00")
    expect(page.get_by_test_id("revenue-clinicians-row")).to_have_count(1)
    _fits(page, width, "clinician revenue")
    assert ["Clinician", "Clara Test", "240.00", "0.00", "0.00", "240.00", "60.00", "0.00", "60.00"] in _csv(page)

    _open(page, "Payments")
    _dates(page, (today - timedelta(days=60)).isoformat(), today.isoformat())
    expect(page.get_by_test_id("total-received")).to_have_text("$60.00")
    _fits(page, width, "clinician payments")
    assert _csv(page)[-1] == ["Total", "Total", "1", "60.00", "0.00", "1.85", "58.15"]

    _open(page, "Outstanding balances and credits")
    expect(page.get_by_test_id("total-owed")).to_have_text("$180.00")
    expect(page.get_by_test_id("total-credit")).to_have_count(0)
    _fits(page, width, "clinician balances")
    _dates(page, (today - timedelta(days=50)).isoformat(), today.isoformat())
    expect(page.get_by_test_id("total-owed")).to_have_text("$60.00")
    assert _csv(page)[-1] == ["Total", "1", (today - timedelta(days=10)).isoformat(), "60.00", "0.00"]
    assert [e for e in console_errors if "favicon" not in e] == []
