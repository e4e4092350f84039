"""Browser test of the clients list and record (Chromium through Playwright)."""

from __future__ import annotations

import os

import pytest

from tests.e2e.helpers import assert_accessible, sign_in
from tests.factories import ClientFactory, PayerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("CLIENTS_SCREENSHOTS")  # a folder: save screenshots there to look at


def shot(page, name):
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def test_search_as_you_type_then_open_the_client(page, console_errors, tenant, other_tenant):
    payer = PayerFactory(practice=tenant.practice, first_name="Karen", last_name="Whitaker", email="karen@mail.test")
    ClientFactory(
        practice=tenant.practice, first_name="Lily", last_name="Whitaker", payer=payer, clinicians=[tenant.clinician]
    )
    ClientFactory(
        practice=tenant.practice,
        first_name="Samuel",
        preferred_name="Sam",
        last_name="Whitaker",
        payer=payer,
        clinicians=[tenant.clinician2],
    )
    ClientFactory.create_batch(30, practice=tenant.practice, clinicians=[tenant.clinician])
    sign_in(page, tenant.owner.email)
    page.get_by_role("link", name="Clients").click()
    page.wait_for_url("**/clients/")
    assert page.locator("[data-testid=client-row]").count() == 25
    shot(page, "list")
    assert_accessible(page, "clients list")

    page.get_by_label("Search").fill("whit")
    page.wait_for_url("**/clients/?q=whit*")
    page.wait_for_function("document.querySelectorAll('[data-testid=client-row]').length === 2")
    shot(page, "list-search")
    assert_accessible(page, "clients list filtered by search")

    page.get_by_role("link", name="Sam Whitaker").click()
    page.wait_for_load_state()
    assert "karen@mail.test" in page.get_by_test_id("billing-email").inner_text()
    shot(page, "overview")
    assert_accessible(page, "client overview")
    for tab in ("Appointments", "Billing", "Settings"):
        page.get_by_role("navigation", name="Client record").get_by_role("link", name=tab).click()
        page.wait_for_load_state()
        shot(page, tab.lower())
        assert_accessible(page, f"client {tab} tab")
    # Chromium asks for /favicon.ico, which the app does not serve (not a clients concern).
    assert [e for e in console_errors if "favicon.ico" not in e] == []


def test_no_horizontal_scroll_on_a_phone(page, tenant, other_tenant):
    client = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima", clinicians=[tenant.clinician])
    ClientFactory.create_batch(5, practice=tenant.practice)
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, tenant.owner.email)
    base = f"/p/{tenant.practice.slug}/clients/"
    for path in (base, f"{base}{client.pk}/", f"{base}{client.pk}/billing/", f"{base}{client.pk}/settings/"):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        shot(page, "phone-" + path.strip("/").replace("/", "-"))
        assert width <= 375, f"{path} is {width}px wide at a 375px viewport"
        assert_accessible(page, path)
        if path == base:
            # The list's rows are cards: every figure of a row is on the screen, not in a
            # sideways scroll of the table
            row = page.get_by_test_id("client-row").filter(has_text="Ana Lima")
            for key in ("account_balance", "account_credit", "overdue_amount"):
                box = row.get_by_test_id(f"client-{key}").bounding_box()
                assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375, (key, box)
