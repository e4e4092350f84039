"""One submission records once (issue 9, part 1): every money form carries a one-time key;
the same key sent again (a double click, a retry, 10 at once) creates nothing more and is
answered with the first submission's redirect and "This was already recorded."

Concurrent repeats are real HTTP requests through Django's test client, each in its own
thread with its own database connection, on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.test import Client

from billing import services
from billing.models import Invoice, Payment, SubmissionKey
from billing.submission import ALREADY_RECORDED, FIELD, PAGE_OUT_OF_DATE, submission_key_new
from billing.views.payments import PAYMENT_RECORDED
from tests.billing.helpers import post_at_once, texts
from tests.factories import ClientFactory, issued_invoice
from tests.helpers import url

D = Decimal


# --- helpers ----------------------------------------------------------------------------------


def assert_once(responses: list[HttpResponse], practice, count: Callable[[], int]) -> None:
    """Exactly one record; every answer is the first's redirect; the books agree."""
    assert count() == 1
    assert {r.status_code for r in responses} == {302}
    assert len({r["Location"] for r in responses}) == 1
    assert sum(ALREADY_RECORDED in texts(r) for r in responses) == len(responses) - 1
    assert services.ledger_verify(practice) == []


@pytest.fixture
def ana(tenant, other_tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Smith")


def payment_data(tenant, invoice: Invoice, amount: str, key: str) -> dict[str, str]:
    return {
        "amount": amount,
        "received_on": tenant.practice.local_today().isoformat(),
        "method": "cash",
        "reference": "",
        f"alloc_{invoice.pk}": amount,
        FIELD: key,
    }


def payment_url(tenant, invoice: Invoice) -> str:
    return f"{url(tenant, 'billing:payment_new')}?invoice={invoice.pk}"


# --- the key itself -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_database_refuses_a_key_used_twice_in_a_practice(tenant, other_tenant):
    key = submission_key_new()
    SubmissionKey.objects.create(practice=tenant.practice, key=key, action="payment.recorded")
    # The same key in another practice is another submission.
    SubmissionKey.objects.create(practice=other_tenant.practice, key=key, action="payment.recorded")

    with pytest.raises(IntegrityError), transaction.atomic():
        SubmissionKey.objects.create(practice=tenant.practice, key=key, action="invoice.created")


@pytest.mark.django_db
def test_money_forms_carry_a_fresh_key_each_time_they_are_shown(tenant, biller, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner)

    first = biller.get(payment_url(tenant, invoice)).content.decode()
    second = biller.get(payment_url(tenant, invoice)).content.decode()

    def key_of(html: str) -> str:
        start = html.index(f'name="{FIELD}" value="') + len(f'name="{FIELD}" value="')
        return html[start : start + 32]

    assert key_of(first) != key_of(second)


# --- Add payment ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_ten_identical_part_payments_at_once_record_one_payment(tenant, biller, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")

    responses = post_at_once(biller, payment_url(tenant, invoice), payment_data(tenant, invoice, "40.00", "a" * 32))

    assert_once(responses, tenant.practice, lambda: Payment.objects.filter(client=ana).count())
    invoice.refresh_from_db()
    assert (invoice.amount_paid, invoice.balance) == (D("40.00"), D("60.00"))
    assert responses[0]["Location"] == invoice.get_absolute_url()


@pytest.mark.django_db
def test_a_second_click_of_add_payment_answers_with_the_first_result(tenant, biller, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    data = payment_data(tenant, invoice, "40.00", submission_key_new())

    first = biller.post(payment_url(tenant, invoice), data)
    second = biller.post(payment_url(tenant, invoice), data, follow=True)

    assert first.status_code == 302
    assert second.redirect_chain == [(first["Location"], 302)]
    page = second.content.decode()
    assert ALREADY_RECORDED in page
    assert PAYMENT_RECORDED.format(amount="$40.00") in page
    assert Payment.objects.filter(client=ana).count() == 1
    invoice.refresh_from_db()
    assert invoice.balance == D("60.00")


@pytest.mark.django_db
def test_a_fresh_key_records_the_same_payment_again(tenant, biller, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")

    biller.post(payment_url(tenant, invoice), payment_data(tenant, invoice, "40.00", submission_key_new()))
    biller.post(payment_url(tenant, invoice), payment_data(tenant, invoice, "40.00", submission_key_new()))

    assert Payment.objects.filter(client=ana).count() == 2
    invoice.refresh_from_db()
    assert invoice.balance == D("20.00")


@pytest.mark.django_db
def test_a_refused_submission_leaves_its_key_for_the_corrected_form(tenant, biller, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    key = submission_key_new()

    refused = biller.post(payment_url(tenant, invoice), payment_data(tenant, invoice, "0", key))
    corrected = biller.post(payment_url(tenant, invoice), payment_data(tenant, invoice, "40.00", key))

    assert refused.status_code == 400
    assert corrected.status_code == 302
    assert ALREADY_RECORDED not in texts(corrected)
    assert Payment.objects.filter(client=ana).count() == 1


@pytest.mark.django_db
def test_a_post_without_a_key_records_nothing_and_asks_to_reload(tenant, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    old_page = Client()  # a page loaded before forms carried keys
    old_page.force_login(tenant.biller)
    data = payment_data(tenant, invoice, "40.00", "")
    del data[FIELD]

    response = old_page.post(payment_url(tenant, invoice), data, follow=True)

    assert response.redirect_chain == [(payment_url(tenant, invoice), 302)]
    assert PAGE_OUT_OF_DATE in response.content.decode()
    assert Payment.objects.filter(client=ana).count() == 0


@pytest.mark.django_db
def test_a_service_claiming_a_used_key_gets_the_first_result(tenant):
    # How a service or task recording on behalf of something else (an online payment) uses it.
    from billing.submission import AlreadySubmitted, submission_claim

    key = submission_key_new()
    with transaction.atomic():
        first = submission_claim(practice=tenant.practice, key=key, action="payment.online", actor=None)
        first.result_url, first.result_message = "/done/", "25 Paid."
        first.save()

    with pytest.raises(AlreadySubmitted) as again, transaction.atomic():
        submission_claim(practice=tenant.practice, key=key, action="payment.online", actor=None)

    assert (again.value.result_url, again.value.result_message) == ("/done/", "25 Paid.")
    assert SubmissionKey.objects.filter(practice=tenant.practice).count() == 1
