"""Issue 15, part 5: AutoPay. The client turns it on in the portal after reading the terms
in plain words (or staff enrol them from the client's Settings tab, with the consent given
by phone or in person); the consent is recorded; enrolling never back-charges the open
balance unless "Include my current balance" is ticked; a maximum per night, Skip tonight
and Turn off AutoPay work. What the nightly job would charge is billing's
autopay_amount_due, asserted here as the evening notice shows it.

Every test runs at 7 PM in the practice's time zone (New York), so "tonight" is the night
of the next date."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from billing.selectors import autopay_amount_due
from billing.submission import submission_key_new
from clients.autopay import TERMS_VERSION
from clients.models import AutoPayConsent, AutoPayEnrolment, AutoPaySkip
from payments.autopay import AUTOPAY_NEEDS_CARD, AUTOPAY_NOT_ON
from payments.models import StripeAccount
from practice.models import AuditLog
from tests.factories import ClientFactory, issued_invoice
from tests.helpers import signed_in, url
from tests.portal import grant_portal, portal_signed_in

from .helpers import CARD_OK, connected_account, save_card

pytestmark = pytest.mark.django_db

EVENING = datetime(2026, 3, 4, 19, 0, tzinfo=ZoneInfo("America/New_York"))
TONIGHT = date(2026, 3, 5)
TOMORROW_NIGHT = date(2026, 3, 6)


@pytest.fixture(autouse=True)
def evening():
    with time_machine.travel(EVENING, tick=True):
        yield


@pytest.fixture
def ana(tenant):
    assert tenant.practice.timezone == "America/New_York"
    client = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima", email="ana@mail.test")
    grant_portal(client)
    return client


@pytest.fixture
def account(app_on_fake, tenant):
    return StripeAccount.objects.create(
        practice=tenant.practice, stripe_account_id=connected_account(app_on_fake), charges_enabled=True
    )


@pytest.fixture
def open_invoice(tenant, ana):
    return issued_invoice(tenant.practice, ana, tenant.biller, "150.00", "80.00")


def turn_on(browser, *, include=False, cap="", balance="230.000", key=None):
    data = {"balance": balance, "max_per_night": cap, "submission_key": key or submission_key_new()}
    if include:
        data["include_balance"] = "on"
    return browser.post("/portal/autopay/on/", data, follow=True)


def test_autopay_needs_a_saved_default_card(app_on_fake, account, ana, open_invoice):
    browser = portal_signed_in(ana)

    page = browser.get("/portal/autopay/").content.decode()
    assert 'data-testid="autopay-status">Off' in page and "Add a card</a> first" in page
    assert "Turn on AutoPay</button>" not in page

    response = turn_on(browser)

    assert AUTOPAY_NEEDS_CARD in response.content.decode()
    assert not AutoPayEnrolment.objects.exists() and not AutoPayConsent.objects.exists()


def test_turning_autopay_on_records_the_consent_and_leaves_the_open_balance_out(
    app_on_fake, account, tenant, ana, open_invoice
):
    save_card(app_on_fake, ana, CARD_OK)
    browser = portal_signed_in(ana)

    page = browser.get("/portal/autopay/").content.decode()
    assert (
        "Every night between 12 AM and 6 AM (America/New York time), the full outstanding balance on your account "
        f"with {tenant.practice.name} is charged to your default card, Visa •••• 4242." in page
    )
    # Include my current balance is offered, unticked.
    assert 'name="include_balance" aria-describedby="include-help">' in page
    assert "Include my current balance of $230.00" in page

    response = turn_on(browser)

    text = response.content.decode()
    assert "AutoPay is on. Visa •••• 4242 will be charged each night for what is owed." in text
    assert 'data-testid="autopay-status">On' in text and "No AutoPay charge yet." in text
    enrolment = AutoPayEnrolment.objects.get()
    assert (enrolment.client, enrolment.include_balance, enrolment.open_balance) == (ana, False, Decimal("230.00"))
    assert enrolment.balance_cutoff_at == enrolment.started_at
    consent = AutoPayConsent.objects.get()
    assert consent.enrolment == enrolment
    assert (consent.given_by, consent.channel, consent.staff, consent.email) == (
        "client",
        "portal",
        None,
        "ana@mail.test",
    )
    assert consent.ip_address == "127.0.0.1" and consent.terms_version == TERMS_VERSION
    assert consent.card == "Visa •••• 4242" and not consent.include_balance
    assert "between 12 AM and 6 AM" in consent.terms_text
    assert "Your current balance of $230.00 is not included" in consent.terms_text
    assert abs((consent.given_at - EVENING).total_seconds()) < 600
    audit = AuditLog.objects.get(action="client.autopay_on")
    assert audit.actor_label == "portal:ana@mail.test"

    # The balance already open is never charged by AutoPay; what is issued from now on is.
    assert autopay_amount_due(enrolment, TONIGHT).amount == 0
    assert "Tonight's AutoPay" not in text
    later = issued_invoice(tenant.practice, ana, tenant.biller, "40.00")
    due = autopay_amount_due(enrolment, TONIGHT)
    assert (due.amount, [i.pk for i in due.invoices]) == (Decimal("40.00"), [later.pk])
    page = browser.get("/portal/autopay/").content.decode()
    assert "Tonight's AutoPay" in page and 'data-testid="autopay-tonight-amount">$40.00' in page
    assert "Pay another way" in page and "Skip tonight" in page
    # The evening before, Billing shows it too.
    billing = browser.get("/portal/").content.decode()
    assert "Tonight's AutoPay" in billing and 'data-testid="autopay-tonight-amount">$40.00' in billing


def test_including_the_current_balance_charges_it_too(app_on_fake, account, tenant, ana, open_invoice):
    save_card(app_on_fake, ana, CARD_OK)

    turn_on(portal_signed_in(ana), include=True)

    enrolment = AutoPayEnrolment.objects.get()
    assert enrolment.include_balance and AutoPayConsent.objects.get().include_balance
    assert "Your current balance of $230.00 is included." in AutoPayConsent.objects.get().terms_text
    assert autopay_amount_due(enrolment, TONIGHT).amount == Decimal("230.00")


def test_a_night_above_the_maximum_waits_for_the_clients_approval(app_on_fake, account, tenant, ana, open_invoice):
    save_card(app_on_fake, ana, CARD_OK)
    browser = portal_signed_in(ana)
    turn_on(browser, include=True, cap="100")
    enrolment = AutoPayEnrolment.objects.get()
    assert enrolment.max_per_night == Decimal("100")

    due = autopay_amount_due(enrolment, TONIGHT)
    assert (due.owed, due.amount, due.waits_for_approval) == (Decimal("230.00"), 0, True)
    page = browser.get("/portal/autopay/").content.decode()
    assert "more than your maximum of $100.00 per night" in page and "Approve $230.00 tonight" in page

    response = browser.post("/portal/autopay/approve/", {"night": "2026-03-05", "amount": "230.000"}, follow=True)

    assert "Approved: up to $230.00 may be charged on the night of Thursday 5 March." in response.content.decode()
    due = autopay_amount_due(enrolment, TONIGHT)
    assert (due.amount, due.approved) == (Decimal("230.00"), True)
    # The approval is for that night: the next night above the cap waits again.
    assert autopay_amount_due(enrolment, TOMORROW_NIGHT).waits_for_approval


def test_skip_tonight_is_kept_for_that_night_only(app_on_fake, account, tenant, ana, open_invoice):
    save_card(app_on_fake, ana, CARD_OK)
    browser = portal_signed_in(ana)
    turn_on(browser, include=True)
    enrolment = AutoPayEnrolment.objects.get()

    response = browser.post("/portal/autopay/skip/", {"night": "2026-03-05"}, follow=True)

    text = response.content.decode()
    assert "AutoPay will not charge on the night of Thursday 5 March." in text
    assert 'data-testid="autopay-skipped"' in text
    assert AutoPaySkip.objects.get().night == TONIGHT
    assert autopay_amount_due(enrolment, TONIGHT).amount == 0
    assert autopay_amount_due(enrolment, TOMORROW_NIGHT).amount == Decimal("230.00")
    # A form left open from another night is out of date, not a skip of the wrong night.
    stale = browser.post("/portal/autopay/skip/", {"night": "2026-03-04"}, follow=True)
    assert "This page was out of date" in stale.content.decode()
    assert AutoPaySkip.objects.count() == 1


def test_turn_off_autopay_at_any_time(app_on_fake, account, tenant, ana, open_invoice):
    save_card(app_on_fake, ana, CARD_OK)
    browser = portal_signed_in(ana)
    turn_on(browser, include=True)

    response = browser.post("/portal/autopay/off/", follow=True)

    text = response.content.decode()
    assert "AutoPay is off. Nothing more will be charged automatically." in text
    assert 'data-testid="autopay-status">Off' in text
    enrolment = AutoPayEnrolment.objects.get()
    assert enrolment.ended_at is not None
    assert autopay_amount_due(enrolment, TONIGHT).amount == 0
    assert AuditLog.objects.filter(action="client.autopay_off", actor_label="portal:ana@mail.test").exists()
    # On again is a new enrolment with a new consent.
    turn_on(browser)
    assert AutoPayEnrolment.objects.count() == 2 and AutoPayConsent.objects.count() == 2


def test_the_same_form_twice_turns_autopay_on_once(app_on_fake, account, tenant, ana, open_invoice):
    save_card(app_on_fake, ana, CARD_OK)
    browser = portal_signed_in(ana)
    key = submission_key_new()

    turn_on(browser, key=key)
    again = turn_on(browser, key=key)

    assert "This was already recorded." in again.content.decode()
    assert AutoPayEnrolment.objects.count() == 1 and AutoPayConsent.objects.count() == 1


def test_a_balance_changed_since_the_terms_were_shown_is_refused(app_on_fake, account, tenant, ana, open_invoice):
    save_card(app_on_fake, ana, CARD_OK)
    issued_invoice(tenant.practice, ana, tenant.biller, "20.00")

    response = turn_on(portal_signed_in(ana), include=True)

    assert "Your balance has changed since the page was opened." in response.content.decode()
    assert not AutoPayEnrolment.objects.exists()


def test_another_clients_autopay_is_not_touched(app_on_fake, account, tenant, ana, open_invoice):
    ben = ClientFactory(practice=tenant.practice, email="ben@mail.test")
    grant_portal(ben)
    save_card(app_on_fake, ben, CARD_OK)
    turn_on(portal_signed_in(ben), balance="0")
    bens = AutoPayEnrolment.objects.get(client=ben)
    browser = portal_signed_in(ana)

    assert 'data-testid="autopay-status">Off' in browser.get("/portal/autopay/").content.decode()
    for path, data in (
        ("/portal/autopay/off/", {}),
        ("/portal/autopay/skip/", {"night": "2026-03-05"}),
        ("/portal/autopay/maximum/", {"max_per_night": "5"}),
    ):
        assert AUTOPAY_NOT_ON in browser.post(path, data, follow=True).content.decode()
    bens.refresh_from_db()
    assert bens.ended_at is None and bens.max_per_night is None and not AutoPaySkip.objects.exists()


# --- staff, from the client's Settings tab -----------------------------------------------------


def staff_enrol(tenant, client, user=None, **data):
    body = {"channel": "phone", "agreed": "on", "balance": "230.000", **data}
    return signed_in(user or tenant.biller).post(
        url(tenant, "payments:autopay_enrol", client_id=client.pk), body, follow=True
    )


def test_staff_enrol_a_client_with_consent_given_by_phone(app_on_fake, account, tenant, ana, open_invoice):
    save_card(app_on_fake, ana, CARD_OK)
    settings_tab = url(tenant, "clients:settings", client_id=ana.pk)
    page = signed_in(tenant.biller).get(settings_tab).content.decode()
    assert 'data-testid="client-autopay-form"' in page and "Include their current balance of $230.00" in page

    refused = staff_enrol(tenant, ana, agreed="")
    assert "Tick that the client agreed to these terms" in refused.content.decode()
    assert not AutoPayEnrolment.objects.exists()

    response = staff_enrol(tenant, ana, channel="phone", max_per_night="300")

    text = response.content.decode()
    assert "AutoPay is on for Ana Lima, with their consent recorded." in text
    assert "given by phone, recorded by" in text
    consent = AutoPayConsent.objects.get()
    assert (consent.given_by, consent.channel, consent.staff, consent.email) == ("staff", "phone", tenant.biller, "")
    assert consent.ip_address == "127.0.0.1" and consent.max_per_night == Decimal("300")
    enrolment = consent.enrolment
    assert not enrolment.include_balance and autopay_amount_due(enrolment, TONIGHT).amount == 0
    audit = AuditLog.objects.get(action="client.autopay_on")
    assert audit.actor_label == tenant.biller.email and audit.changes["channel"] == "phone"
    # The client sees it on in the portal.
    assert 'data-testid="autopay-status">On' in portal_signed_in(ana).get("/portal/autopay/").content.decode()

    signed_in(tenant.biller).post(url(tenant, "payments:autopay_end", client_id=ana.pk))
    enrolment.refresh_from_db()
    assert enrolment.ended_at is not None and enrolment.ended_by == tenant.biller


def test_staff_enrol_in_person_with_the_balance_the_client_asked_to_include(
    app_on_fake, account, tenant, ana, open_invoice
):
    save_card(app_on_fake, ana, CARD_OK)
    staff_enrol(tenant, ana, channel="in_person", include_balance="on")
    consent = AutoPayConsent.objects.get()
    assert (consent.channel, consent.include_balance) == ("in_person", True)
    assert autopay_amount_due(consent.enrolment, TONIGHT).amount == Decimal("230.00")
    # Only phone or in person: "portal" is the client's own.
    signed_in(tenant.biller).post(url(tenant, "payments:autopay_end", client_id=ana.pk))
    assert "Choose how the client agreed" in staff_enrol(tenant, ana, channel="portal").content.decode()


def test_only_billing_roles_of_the_practice_enrol(app_on_fake, account, tenant, other_tenant, ana, open_invoice):
    save_card(app_on_fake, ana, CARD_OK)
    ana.clinicians.add(tenant.clinician)
    page = signed_in(tenant.clinician).get(url(tenant, "clients:settings", client_id=ana.pk)).content.decode()
    assert 'data-testid="client-autopay"' not in page
    assert staff_enrol(tenant, ana, user=tenant.clinician).status_code == 403
    # Another practice's biller, with Ana's id in their practice's URL: 404.
    response = signed_in(other_tenant.biller).post(
        url(other_tenant, "payments:autopay_enrol", client_id=ana.pk), {"channel": "phone", "agreed": "on"}
    )
    assert response.status_code == 404
    assert not AutoPayEnrolment.objects.exists()
