"""Issue 17, part 1: the dashboard's card payment figures. Last night's AutoPay results
(charged, declined, waiting for the client) and the payments needing attention (declined
charges nothing dealt with, card payments held for review), each a link to the Card
charges list filtered to the rows behind it. The charges are made on the fake Stripe over
real HTTP, as AutoPay makes them: a saved card charged with no person behind it."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.services import invoice_mark_paid
from billing.submission import submission_key_new
from payments import card_charges
from payments.models import CardChargeAttempt, CheckoutAttempt, StripeAccount
from payments.selectors import autopay_night_results
from tests.factories import ClientFactory, issued_invoice
from tests.helpers import signed_in, url

from .helpers import CARD_OK, connected_account, save_card

pytestmark = pytest.mark.django_db

CARD_CHARGE_FAILS = "4000 0000 0000 0341"  # saves fine, every charge is declined
CARD_3DS_ALWAYS = "4000 0027 6000 3184"  # off-session: the bank asks the client to confirm
D = Decimal


@pytest.fixture
def account(app_on_fake, tenant):
    return StripeAccount.objects.create(
        practice=tenant.practice, stripe_account_id=connected_account(app_on_fake), charges_enabled=True
    )


def at(practice, night, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(night, time(hour, minute), tzinfo=practice.tzinfo)


def charge(invoice, card, *, when: datetime, actor=None) -> CardChargeAttempt:
    """A saved card charged for the invoice's balance: by AutoPay (no one behind it) or by a
    staff member's Pay now (``actor``, with the form's key), dated ``when``."""
    key = submission_key_new() if actor else ""
    attempt = card_charges.card_charge_create(invoice=invoice, card=card, actor=actor, submission_key=key)
    attempt = card_charges.card_charge_run(attempt_id=attempt.pk)
    CardChargeAttempt.objects.filter(pk=attempt.pk).update(created_at=when)
    return attempt


def client_with_card(app_on_fake, tenant, first: str, number: str, *prices: str):
    client = ClientFactory(practice=tenant.practice, first_name=first, last_name="Test", email=f"{first}@mail.test")
    card = save_card(app_on_fake, client, number)
    return client, card, issued_invoice(tenant.practice, client, tenant.biller, *prices)


def dashboard(user, practice) -> str:
    return signed_in(user).get(reverse("dashboard", kwargs={"practice_slug": practice.slug})).content.decode()


def card_rows(page: str, testid: str) -> dict[str, tuple[str, str, str]]:
    """The card's rows: label -> (count, amount, link)."""
    section = re.search(rf'data-testid="{testid}">(.*?)</section>', page, re.S)
    assert section, f"no {testid} card on the dashboard"
    return {
        label.strip(): (count, amount, unescape(href))
        for href, count, label, amount in re.findall(
            rf'data-testid="{testid}-row"><a href="([^"]+)"><span class="dash-count">(\d+)</span> ([^<]+?)'
            r'(?: <span class="dash-amount">([^<]+)</span>)?</a>',
            section.group(1),
        )
    }


def listed(user, link: str) -> list[str]:
    """The rows of the list a dashboard link opens, as text."""
    page = signed_in(user).get(link)
    assert page.status_code == 200
    rows = re.findall(r'data-testid="(?:card-charge|held)-row">(.*?)</tr>', page.content.decode(), re.S)
    return [re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", row))).strip() for row in rows]


@pytest.fixture
def last_night(app_on_fake, account, tenant, other_tenant):
    """AutoPay's night: Ana charged $120, Ben declined for $80, Cleo's bank asks her to
    confirm $45. Not AutoPay's, so left out: Dora's Pay now by the biller that night, and
    Eli's AutoPay charge of the night before."""
    practice = tenant.practice
    night = practice.local_today()
    _, ana_card, ana_invoice = client_with_card(app_on_fake, tenant, "Ana", CARD_OK, "120.00")
    _, ben_card, ben_invoice = client_with_card(app_on_fake, tenant, "Ben", CARD_CHARGE_FAILS, "80.00")
    _, cleo_card, cleo_invoice = client_with_card(app_on_fake, tenant, "Cleo", CARD_3DS_ALWAYS, "45.00")
    _, dora_card, dora_invoice = client_with_card(app_on_fake, tenant, "Dora", CARD_OK, "60.00")
    _, eli_card, eli_invoice = client_with_card(app_on_fake, tenant, "Eli", CARD_OK, "30.00")
    charged = charge(ana_invoice, ana_card, when=at(practice, night, 1, 5))
    declined = charge(ben_invoice, ben_card, when=at(practice, night, 1, 6))
    waiting = charge(cleo_invoice, cleo_card, when=at(practice, night, 1, 7))
    charge(dora_invoice, dora_card, when=at(practice, night, 2), actor=tenant.biller)
    charge(eli_invoice, eli_card, when=at(practice, night - timedelta(days=1), 1))
    assert [a.status for a in (charged, declined, waiting)] == ["succeeded", "failed", "requires_action"]
    return night


def test_last_nights_autopay_results_link_to_the_charges_behind_them(tenant, last_night):
    page = dashboard(tenant.biller, tenant.practice)

    rows = card_rows(page, "autopay")
    base = url(tenant, "payments:card_charges")
    on = f"autopay_night={last_night.isoformat()}"
    assert rows == {
        "Charged": ("1", "$120.00", f"{base}?{on}&status=succeeded"),
        "Declined": ("1", "$80.00", f"{base}?{on}&status=failed"),
        "Needs client action": ("1", "$45.00", f"{base}?{on}&status=requires_action"),
    }
    # Each link lists exactly the charges its figure counts.
    (ana,) = listed(tenant.biller, rows["Charged"][2])
    assert "Ana Test" in ana and "AutoPay" in ana and "$120.00" in ana and "Succeeded" in ana
    (ben,) = listed(tenant.biller, rows["Declined"][2])
    assert "Ben Test" in ben and "Failed" in ben and "declined" in ben
    (cleo,) = listed(tenant.biller, rows["Needs client action"][2])
    assert "Cleo Test" in cleo and "Needs client action" in cleo
    every = listed(tenant.biller, f"{base}?{on}")
    assert len(every) == 3 and not any("Dora" in r or "Eli" in r for r in every)
    # Pay now by staff is a charge too, just not AutoPay's
    assert any("Dora Test" in r and "Pay now by Bella Test" in r for r in listed(tenant.biller, base))


def test_payments_needing_attention_are_the_declines_nothing_dealt_with_and_held_payments(
    tenant, last_night, app_on_fake
):
    practice = tenant.practice
    # Ben's decline was dealt with: he paid cash. Cleo still owes, and so does Fay, whose
    # card was declined on Pay now.
    ben = CardChargeAttempt.objects.get(client__first_name="Ben")
    invoice_mark_paid(invoice=ben.invoice, actor=tenant.biller, method="cash")
    fay, fay_card, fay_invoice = client_with_card(app_on_fake, tenant, "Fay", CARD_CHARGE_FAILS, "70.00")
    charge(fay_invoice, fay_card, when=at(practice, last_night, 9), actor=tenant.biller)
    held_invoice = issued_invoice(practice, fay, tenant.biller, "50.00")
    CheckoutAttempt.objects.create(
        practice=practice,
        invoice_id=held_invoice.pk,
        client=fay,
        amount=D("50.00"),
        currency="USD",
        status=CheckoutAttempt.Status.HELD,
        stripe_amount=D("55.00"),
        stripe_currency="USD",
    )

    rows = card_rows(dashboard(tenant.owner, practice), "attention")

    base = url(tenant, "payments:card_charges")
    assert rows == {
        "Card charges declined or waiting for the client": ("2", "$115.00", f"{base}?status=attention"),
        "Card payments held for review": ("1", "", f"{base}?status=held"),
    }
    attention = listed(tenant.owner, rows["Card charges declined or waiting for the client"][2])
    assert len(attention) == 2
    assert "Fay Test" in attention[0] and "Failed" in attention[0]
    assert "Cleo Test" in attention[1] and "Needs client action" in attention[1]
    (held,) = listed(tenant.owner, rows["Card payments held for review"][2])
    assert "Fay Test" in held and held_invoice.number in held and "$50.00" in held and "55.000 USD" in held


def test_clinicians_see_no_card_payment_figures_and_not_the_list(tenant, last_night):
    page = dashboard(tenant.clinician, tenant.practice)
    assert 'data-testid="autopay"' not in page and 'data-testid="attention"' not in page
    assert signed_in(tenant.clinician).get(url(tenant, "payments:card_charges")).status_code == 403


def test_a_night_without_autopay_says_so(tenant, account):
    page = dashboard(tenant.owner, tenant.practice)
    assert card_rows(page, "autopay") == {}
    assert "AutoPay charged no one that night." in page


def test_another_practices_charges_are_not_counted_nor_listed(tenant, other_tenant, last_night):
    assert autopay_night_results(other_tenant.practice, last_night).count == 0
    page = dashboard(other_tenant.owner, other_tenant.practice)
    assert "AutoPay charged no one that night." in page
    assert listed(other_tenant.owner, url(other_tenant, "payments:card_charges")) == []


def count_queries(user, practice) -> int:
    client = signed_in(user)
    dashboard_url = reverse("dashboard", kwargs={"practice_slug": practice.slug})
    client.get(dashboard_url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(dashboard_url).status_code == 200
    return len(queries)


def test_the_card_figures_cost_the_same_queries_for_one_charge_or_many(app_on_fake, account, tenant):
    practice = tenant.practice
    night = practice.local_today()
    numbers = [CARD_OK, CARD_CHARGE_FAILS, CARD_3DS_ALWAYS]

    def add_night_of_charges(n: int) -> None:
        for k in range(n):
            _, card, invoice = client_with_card(app_on_fake, tenant, f"C{k}x{n}", numbers[k % 3], "40.00")
            charge(invoice, card, when=at(practice, night, 1, k))

    add_night_of_charges(1)
    few = count_queries(tenant.owner, practice)
    add_night_of_charges(5)
    many = count_queries(tenant.owner, practice)
    assert few == many
    assert autopay_night_results(practice, night).count == 6
