"""Issue 17, part 1: the dashboard's card payment figures. Last night's AutoPay results
(charged, declined, waiting for the client's bank), read from AutoPay's own rows, and the
payments needing attention (declined charges nothing dealt with, card payments held for
review), each a link to the Card charges list filtered to the rows behind it. The charges
are made on the fake Stripe over real HTTP, by the nightly AutoPay run and by Pay now."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.services import invoice_mark_paid
from billing.submission import submission_key_new
from payments import card_charges
from payments.autopay_night import autopay_night_run
from payments.models import AutoPayCharge, CardChargeAttempt, CheckoutAttempt
from payments.selectors import autopay_night_results
from tests.factories import ClientFactory, issued_invoice
from tests.helpers import signed_in, url

from .autopay_helpers import CARD_3DS_ALWAYS, CARD_CHARGE_FAILS, enrolled_client, takes_charges
from .helpers import CARD_OK, save_card

pytestmark = pytest.mark.django_db
D = Decimal

NEW_YORK = ZoneInfo("America/New_York")
EVENING = datetime(2026, 3, 4, 19, 0, tzinfo=NEW_YORK)
NIGHT = date(2026, 3, 5)
NIGHT_TIME = datetime(2026, 3, 5, 0, 30, tzinfo=NEW_YORK)
MORNING = datetime(2026, 3, 5, 9, 0, tzinfo=NEW_YORK)
ONE_DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def fast_pace(settings):
    settings.AUTOPAY_CHARGES_PER_SECOND = 1000


@pytest.fixture
def clock():
    with time_machine.travel(EVENING, tick=True) as traveller:
        yield traveller


@pytest.fixture
def account(app_on_fake, tenant):
    return takes_charges(app_on_fake, tenant.practice)


def enrolled_owing(app_on_fake, tenant, first: str, card: str, price: str):
    client, _ = enrolled_client(app_on_fake, tenant.practice, first=first, last="Test", card=card)
    return client, issued_invoice(tenant.practice, client, tenant.biller, price)


def pay_now(app_on_fake, tenant, first: str, number: str, price: str) -> CardChargeAttempt:
    """A client with a saved card whose invoice the biller charges with Pay now."""
    client = ClientFactory(practice=tenant.practice, first_name=first, last_name="Test", email=f"{first}@mail.test")
    card = save_card(app_on_fake, client, number)
    invoice = issued_invoice(tenant.practice, client, tenant.biller, price)
    attempt = card_charges.card_charge_create(
        invoice=invoice, card=card, actor=tenant.biller, submission_key=submission_key_new()
    )
    return card_charges.card_charge_run(attempt_id=attempt.pk)


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
def last_night(app_on_fake, account, tenant, other_tenant, clock):
    """The night of 5 March: AutoPay charged Ana $120, Ben's card declined $80, Cleo's bank
    asks her to confirm $45. Dora's Pay now by the biller that night is not AutoPay's. Read
    the next morning."""
    enrolled_owing(app_on_fake, tenant, "Ana", CARD_OK, "120.00")
    enrolled_owing(app_on_fake, tenant, "Ben", CARD_CHARGE_FAILS, "80.00")
    enrolled_owing(app_on_fake, tenant, "Cleo", CARD_3DS_ALWAYS, "45.00")
    clock.move_to(NIGHT_TIME, tick=True)
    autopay_night_run(practice=tenant.practice, night=NIGHT)
    pay_now(app_on_fake, tenant, "Dora", CARD_OK, "60.00")
    clock.move_to(MORNING, tick=True)
    statuses = dict(AutoPayCharge.objects.values_list("client__first_name", "status"))
    assert statuses == {"Ana": "succeeded", "Ben": "failed", "Cleo": "needs_action"}
    return NIGHT


def test_last_nights_autopay_results_link_to_the_charges_behind_them(tenant, last_night):
    page = dashboard(tenant.biller, tenant.practice)

    rows = card_rows(page, "autopay")
    base = url(tenant, "payments:card_charges")
    on = f"autopay_night={last_night.isoformat()}"
    assert rows == {
        "Charged": ("1", "$120.00", f"{base}?{on}&status=succeeded"),
        "Declined or failed": ("1", "$80.00", f"{base}?{on}&status=failed"),
        "Needs client action": ("1", "$45.00", f"{base}?{on}&status=requires_action"),
    }
    assert "The night of 5 Mar 2026: charges made from 12 AM to 6 AM." in page
    # Each link lists exactly the charges its figure counts.
    (ana,) = listed(tenant.biller, rows["Charged"][2])
    assert "Ana Test" in ana and "$120.00" in ana and "Visa •••• 4242" in ana and "AutoPay: Charged" in ana
    (ben,) = listed(tenant.biller, rows["Declined or failed"][2])
    assert "Ben Test" in ben and "AutoPay: Failed" in ben and "declined" in ben
    (cleo,) = listed(tenant.biller, rows["Needs client action"][2])
    assert "Cleo Test" in cleo and "AutoPay: Needs client action" in cleo
    every = listed(tenant.biller, f"{base}?{on}")
    assert len(every) == 3 and not any("Dora" in r for r in every)
    # Every card charge: AutoPay's and the biller's Pay now, each saying who started it
    charges = listed(tenant.biller, base)
    assert any("Dora Test" in r and "Pay now by Bella Test" in r for r in charges)
    assert any("Ana Test" in r and "AutoPay" in r for r in charges)


def test_payments_needing_attention_are_the_declines_nothing_dealt_with_and_held_payments(
    tenant, last_night, app_on_fake
):
    practice = tenant.practice
    # Ben's decline was dealt with: he paid cash. Cleo still owes, and so does Fay, whose
    # card was declined on Pay now.
    ben = CardChargeAttempt.objects.get(client__first_name="Ben")
    invoice_mark_paid(invoice=ben.invoice, actor=tenant.biller, method="cash")
    fay = pay_now(app_on_fake, tenant, "Fay", CARD_CHARGE_FAILS, "70.00").client
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


def test_a_night_without_autopay_says_so(tenant, account, clock):
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


def test_the_card_figures_cost_the_same_queries_for_one_charge_or_many(app_on_fake, account, tenant, clock):
    practice = tenant.practice
    numbers = [CARD_OK, CARD_CHARGE_FAILS, CARD_3DS_ALWAYS]

    def a_night_of(n: int, night: date) -> None:
        clock.move_to(datetime.combine(night, EVENING.time(), tzinfo=NEW_YORK), tick=True)
        for k in range(n):
            enrolled_owing(app_on_fake, tenant, f"C{k}x{n}", numbers[k % 3], "40.00")
        clock.move_to(datetime.combine(night, NIGHT_TIME.time(), tzinfo=NEW_YORK) + ONE_DAY, tick=True)
        autopay_night_run(practice=practice, night=night + ONE_DAY)
        clock.move_to(datetime.combine(night, MORNING.time(), tzinfo=NEW_YORK) + ONE_DAY, tick=True)

    a_night_of(1, date(2026, 3, 4))
    few = count_queries(tenant.owner, practice)
    assert autopay_night_results(practice, NIGHT).count == 1
    a_night_of(5, date(2026, 3, 5))
    many = count_queries(tenant.owner, practice)
    assert autopay_night_results(practice, date(2026, 3, 6)).count == 5
    assert few == many
