"""The client's Billing tab: payments' panels (saved cards, AutoPay) appear only when they
have something to show, and one query decides which."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payments.autopay import autopay_turn_off
from practice.actor import Actor
from tests.factories import ClientFactory
from tests.helpers import signed_in, url

from .autopay_helpers import enrolled_client, takes_charges

pytestmark = pytest.mark.django_db

# payments' tables, and the AutoPay enrolment clients keeps for it, quoted or not.
PAYMENTS_TABLES = re.compile(r"\b(payments_[a-z]+|clients_autopayenrolment)\b")


def payments_reads(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if PAYMENTS_TABLES.search(q["sql"])]


def test_without_stripe_or_autopay_the_tab_shows_neither_panel_for_one_query(tenant):
    quiet = ClientFactory(practice=tenant.practice)
    staff = signed_in(tenant.biller)
    with CaptureQueriesContext(connection) as queries:
        tab = staff.get(url(tenant, "clients:billing", client_id=quiet.pk)).content.decode()
    assert 'data-testid="saved-cards"' not in tab and 'data-testid="client-autopay-charges"' not in tab
    assert len(payments_reads(queries)) == 1, payments_reads(queries)


def test_a_clinician_sees_no_payments_panel_and_pays_no_query_for_it(tenant):
    ana = ClientFactory(practice=tenant.practice)
    ana.clinicians.add(tenant.clinician)
    with CaptureQueriesContext(connection) as queries:
        tab = signed_in(tenant.clinician).get(url(tenant, "clients:billing", client_id=ana.pk)).content.decode()
    assert 'data-testid="saved-cards"' not in tab
    assert payments_reads(queries) == []


def test_autopay_on_shows_its_panel_and_the_card_then_off_hides_autopay(app_on_fake, tenant):
    takes_charges(app_on_fake, tenant.practice)
    ana, _ = enrolled_client(app_on_fake, tenant.practice)
    staff = signed_in(tenant.biller)
    tab = staff.get(url(tenant, "clients:billing", client_id=ana.pk)).content.decode()
    assert 'data-testid="saved-cards"' in tab and "Visa •••• 4242" in tab
    assert 'data-testid="client-autopay-charges"' in tab and "No AutoPay charge yet." in tab
    assert tab.index('data-testid="saved-cards"') < tab.index('data-testid="client-autopay-charges"')

    autopay_turn_off(client=ana, actor=Actor.of_user(tenant.biller, address="127.0.0.1"))
    tab = staff.get(url(tenant, "clients:billing", client_id=ana.pk)).content.decode()
    assert 'data-testid="saved-cards"' in tab and 'data-testid="client-autopay-charges"' not in tab


def test_a_practice_that_takes_charges_offers_to_request_a_card_from_a_client_with_none(app_on_fake, tenant):
    takes_charges(app_on_fake, tenant.practice)
    bea = ClientFactory(practice=tenant.practice, email="bea@mail.test")
    tab = signed_in(tenant.biller).get(url(tenant, "clients:billing", client_id=bea.pk)).content.decode()
    assert 'data-testid="saved-cards"' in tab and "No saved cards." in tab
    assert "Request card details</button>" in tab
