"""Issue 15 parts 2 and 3: paying from the client portal through Stripe Checkout (the fake,
over real HTTP). Make payment pays one invoice; Pay full balance pays every open invoice
in one session, allocated oldest first. The portal says Processing until Stripe confirms,
then Paid, and the unpaid count goes down; an invoice paid a moment ago elsewhere is
"already paid" and nothing is charged."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from billing.models import Invoice, Payment, PaymentAllocation
from payments.checkout import BALANCE_CHANGED, INVOICE_PAID, NOTHING_OWED, attempt_token, checkout_refresh
from payments.models import CheckoutAttempt, CheckoutAttemptInvoice, StripeAccount
from payments.portal_views import PAID_THANKS, PAYMENT_CANCELLED, PAYMENT_HELD
from tests.factories import ClientFactory, PayerFactory, issued_invoice
from tests.factories import pay as pay_client
from tests.portal import grant_portal, portal_signed_in

from .helpers import CARD_OK, connected_account, pay_on_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann(practice):
    client = ClientFactory(practice=practice, first_name="Ann", last_name="Lee", email="ann@mail.test")
    grant_portal(client)
    return client


@pytest.fixture
def account(app_on_fake, tenant):
    return StripeAccount.objects.create(
        practice=tenant.practice, stripe_account_id=connected_account(app_on_fake), charges_enabled=True
    )


def sessions_made(fake):
    return [r for r in fake.control.requests() if r["method"] == "POST" and r["path"] == "/v1/checkout/sessions"]


def unpaid_count(html: str) -> str:
    match = re.search(r'data-testid="portal-unpaid-count">(\d+)<', html)
    return match.group(1) if match else "0"


def messages_in(html: str) -> str:
    return " ".join(re.findall(r'<p class="flash flash-\w+">([^<]*)</p>', html))


def return_path(attempt: CheckoutAttempt) -> str:
    return f"/portal/checkout/{attempt_token(attempt)}/return/"


def test_make_payment_pays_the_invoice_and_the_count_goes_down(app_on_fake, account, tenant, ann):
    invoice = issued_invoice(tenant.practice, ann, tenant.biller, "150.00", "80.00")
    issued_invoice(tenant.practice, ann, tenant.biller, "40.00")
    browser = portal_signed_in(ann)
    assert unpaid_count(browser.get("/portal/").content.decode()) == "2"
    details = browser.get(f"/portal/invoices/{invoice.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert f'action="/portal/invoices/{invoice.pk}/pay/"' in details and "Make payment" in details

    started = browser.post(f"/portal/invoices/{invoice.pk}/pay/", {"balance": "230.00"})

    assert started.status_code == 303 and started["Location"].startswith(app_on_fake.url)
    attempt = CheckoutAttempt.objects.get()
    assert attempt.source == CheckoutAttempt.Source.PORTAL and attempt.amount == Decimal("230.00")
    (request,) = sessions_made(app_on_fake)
    assert request["idempotency_key"] == f"checkout:{attempt.pk}:session"
    assert return_path(attempt) in request["params"]["success_url"]
    # Back before Stripe has the money: Processing, and nothing recorded.
    processing = browser.get(return_path(attempt)).content.decode()
    assert "Processing" in processing and 'data-testid="portal-processing"' in processing
    assert not Payment.objects.exists()

    paid = pay_on_page(app_on_fake, started["Location"], CARD_OK)
    assert paid.status_code in (302, 303) and return_path(attempt) in paid.headers["Location"]
    back = browser.get(return_path(attempt), follow=True)

    assert back.redirect_chain[-1][0] == f"/portal/invoices/{invoice.pk}/"
    html = back.content.decode()
    assert PAID_THANKS.format(amount="$230.00") in messages_in(html)
    assert 'data-testid="portal-details-status">Paid<' in html
    assert unpaid_count(html) == "1"
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    (payment,) = Payment.objects.all()
    assert payment.method == Payment.Method.CARD_ONLINE and payment.amount == Decimal("230.00")


def test_processing_page_asks_again_by_itself_and_moves_on_when_paid(app_on_fake, account, tenant, ann):
    invoice = issued_invoice(tenant.practice, ann, tenant.biller, "90.00")
    browser = portal_signed_in(ann)
    browser.post(f"/portal/invoices/{invoice.pk}/pay/", {"balance": "90.00"})
    attempt = CheckoutAttempt.objects.get()
    poll = browser.get(return_path(attempt), HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 2s"' in poll and "<html" not in poll

    app_on_fake.control.pay_session(attempt.stripe_checkout_session_id)
    done = browser.get(return_path(attempt), HTTP_HX_REQUEST="true")

    assert done.status_code == 204 and done["HX-Redirect"] == f"/portal/invoices/{invoice.pk}/"


def test_an_invoice_paid_a_moment_ago_elsewhere_is_already_paid_and_nothing_is_charged(
    app_on_fake, account, tenant, ann
):
    invoice = issued_invoice(tenant.practice, ann, tenant.biller, "90.00")
    browser = portal_signed_in(ann)
    browser.get(f"/portal/invoices/{invoice.pk}/", HTTP_HX_REQUEST="true")  # the page shows 90.00 owed
    pay_client(tenant.practice, ann, tenant.biller, "90.00", allocations={invoice.pk: Decimal("90.00")})

    response = browser.post(f"/portal/invoices/{invoice.pk}/pay/", {"balance": "90.00"}, follow=True)

    assert response.redirect_chain[-1][0] == f"/portal/invoices/{invoice.pk}/"
    assert INVOICE_PAID in messages_in(response.content.decode())
    assert sessions_made(app_on_fake) == [] and not CheckoutAttempt.objects.exists()
    assert "Make payment" not in response.content.decode()


def test_cancel_on_the_stripe_page_comes_back_to_the_invoice(app_on_fake, account, tenant, ann):
    invoice = issued_invoice(tenant.practice, ann, tenant.biller, "90.00")
    browser = portal_signed_in(ann)
    browser.post(f"/portal/invoices/{invoice.pk}/pay/", {"balance": "90.00"})
    attempt = CheckoutAttempt.objects.get()

    back = browser.get(f"/portal/checkout/{attempt_token(attempt)}/cancel/", follow=True)

    assert back.redirect_chain[-1][0] == f"/portal/invoices/{invoice.pk}/"
    assert PAYMENT_CANCELLED in messages_in(back.content.decode())


def test_another_clients_payment_return_is_a_404(app_on_fake, account, tenant, ann):
    invoice = issued_invoice(tenant.practice, ann, tenant.biller, "90.00")
    portal_signed_in(ann).post(f"/portal/invoices/{invoice.pk}/pay/", {"balance": "90.00"})
    attempt = CheckoutAttempt.objects.get()
    bo = ClientFactory(practice=tenant.practice, email="bo@mail.test")
    grant_portal(bo)

    assert portal_signed_in(bo).get(return_path(attempt)).status_code == 404
    assert portal_signed_in(bo).post(f"/portal/invoices/{invoice.pk}/pay/", {"balance": "90.00"}).status_code == 404


def test_pay_full_balance_pays_every_open_invoice_in_one_session_oldest_first(app_on_fake, account, tenant, ann):
    practice, biller = tenant.practice, tenant.biller
    with time_machine.travel(timezone.now() - timedelta(days=30), tick=False):
        oldest = issued_invoice(practice, ann, biller, "100.00")
    with time_machine.travel(timezone.now() - timedelta(days=10), tick=False):
        middle = issued_invoice(practice, ann, biller, "60.00")
    newest = issued_invoice(practice, ann, biller, "45.50")
    pay_client(practice, ann, biller, "20.00", allocations={middle.pk: Decimal("20.00")})
    done = issued_invoice(practice, ann, biller, "10.00")
    pay_client(practice, ann, biller, "10.00", allocations={done.pk: Decimal("10.00")})
    browser = portal_signed_in(ann)
    home = browser.get("/portal/").content.decode()
    assert "Pay full balance ($185.50)" in home
    assert unpaid_count(home) == "3"

    started = browser.post("/portal/pay-balance/", {"client": str(ann.pk), "total": "185.50"})

    assert started.status_code == 303
    attempt = CheckoutAttempt.objects.get()
    assert attempt.amount == Decimal("185.50") and attempt.invoice_id == oldest.pk
    shares = list(CheckoutAttemptInvoice.objects.filter(attempt=attempt).values_list("invoice_id", "amount"))
    assert shares == [(oldest.pk, Decimal("100.00")), (middle.pk, Decimal("40.00")), (newest.pk, Decimal("45.50"))]
    (request,) = sessions_made(app_on_fake)
    assert request["idempotency_key"] == f"checkout:{attempt.pk}:session"
    assert request["params"]["line_items"][0]["price_data"]["unit_amount"] == "18550"
    assert request["params"]["line_items"][0]["price_data"]["product_data"]["name"] == (
        f"3 invoices, from {oldest.number}"
    )

    pay_on_page(app_on_fake, started["Location"], CARD_OK)
    back = browser.get(return_path(attempt), follow=True)

    assert back.redirect_chain[-1][0] == "/portal/"
    html = back.content.decode()
    assert PAID_THANKS.format(amount="$185.50") in messages_in(html)
    assert unpaid_count(html) == "0" and "Nothing is owed" in html
    (payment,) = Payment.objects.filter(method=Payment.Method.CARD_ONLINE)
    allocations = list(
        PaymentAllocation.objects.filter(payment=payment)
        .order_by("invoice__issue_date")
        .values_list("invoice", "amount")
    )
    assert allocations == [(oldest.pk, Decimal("100.00")), (middle.pk, Decimal("40.00")), (newest.pk, Decimal("45.50"))]
    assert payment.credited == 0
    assert set(Invoice.objects.filter(pk__in=[oldest.pk, middle.pk, newest.pk]).values_list("status", flat=True)) == {
        "paid"
    }


def test_pay_full_balance_fills_the_oldest_first_when_one_was_paid_meanwhile(app_on_fake, account, tenant, ann):
    """Cash for the oldest invoice arrives while the client is on the Stripe page: the card
    payment still settles (money taken is never refused), oldest first, and what the
    invoices no longer owe becomes credit."""
    practice, biller = tenant.practice, tenant.biller
    with time_machine.travel(timezone.now() - timedelta(days=30), tick=False):
        oldest = issued_invoice(practice, ann, biller, "100.00")
    newest = issued_invoice(practice, ann, biller, "50.00")
    browser = portal_signed_in(ann)
    started = browser.post("/portal/pay-balance/", {"client": str(ann.pk), "total": "150.00"})
    pay_client(practice, ann, biller, "30.00", allocations={oldest.pk: Decimal("30.00")})

    pay_on_page(app_on_fake, started["Location"], CARD_OK)
    checkout_refresh(CheckoutAttempt.objects.get())

    payment = Payment.objects.get(method=Payment.Method.CARD_ONLINE)
    assert dict(PaymentAllocation.objects.filter(payment=payment).values_list("invoice", "amount")) == {
        oldest.pk: Decimal("70.00"),
        newest.pk: Decimal("50.00"),
    }
    assert payment.credited == Decimal("30.00")


def test_pay_full_balance_refuses_a_changed_total_and_charges_nothing(app_on_fake, account, tenant, ann):
    issued_invoice(tenant.practice, ann, tenant.biller, "100.00")
    browser = portal_signed_in(ann)
    browser.get("/portal/")
    issued_invoice(tenant.practice, ann, tenant.biller, "20.00")

    response = browser.post("/portal/pay-balance/", {"client": str(ann.pk), "total": "100.00"}, follow=True)

    assert BALANCE_CHANGED in messages_in(response.content.decode())
    assert sessions_made(app_on_fake) == []


def test_pay_full_balance_with_nothing_owed(app_on_fake, account, tenant, ann):
    response = portal_signed_in(ann).post("/portal/pay-balance/", {"client": str(ann.pk)}, follow=True)
    assert NOTHING_OWED in messages_in(response.content.decode())
    assert sessions_made(app_on_fake) == []


def test_a_double_click_on_pay_full_balance_makes_one_session(app_on_fake, account, tenant, ann):
    issued_invoice(tenant.practice, ann, tenant.biller, "100.00")
    issued_invoice(tenant.practice, ann, tenant.biller, "20.00")
    browser = portal_signed_in(ann)
    first = browser.post("/portal/pay-balance/", {"client": str(ann.pk), "total": "120.00"})
    second = browser.post("/portal/pay-balance/", {"client": str(ann.pk), "total": "120.00"})

    assert first["Location"] == second["Location"]
    assert CheckoutAttempt.objects.count() == 1
    assert len({r["idempotency_key"] for r in sessions_made(app_on_fake)}) == 1


def test_an_amount_stripe_disagrees_with_is_held_and_never_applied(app_on_fake, account, tenant, ann):
    oldest = issued_invoice(tenant.practice, ann, tenant.biller, "100.00")
    issued_invoice(tenant.practice, ann, tenant.biller, "20.00")
    started = portal_signed_in(ann).post("/portal/pay-balance/", {"client": str(ann.pk), "total": "120.00"})
    attempt = CheckoutAttempt.objects.get()
    pay_on_page(app_on_fake, started["Location"], CARD_OK)
    CheckoutAttempt.objects.filter(pk=attempt.pk).update(amount=Decimal("119.00"))  # what we expected differs

    refreshed = checkout_refresh(CheckoutAttempt.objects.get())

    assert refreshed.status == CheckoutAttempt.Status.HELD
    assert not Payment.objects.exists()
    back = portal_signed_in(ann).get(return_path(refreshed), follow=True)
    assert PAYMENT_HELD.format(practice=tenant.practice.name) in messages_in(back.content.decode())
    oldest.refresh_from_db()
    assert oldest.balance == Decimal("100.00")


def test_a_payer_pays_each_clients_balance_and_never_another_clients(app_on_fake, account, tenant):
    practice = tenant.practice
    may = PayerFactory(practice=practice, first_name="May", email="may@mail.test")
    kit = ClientFactory(practice=practice, first_name="Kit", email="", payer=may)
    joe = ClientFactory(practice=practice, first_name="Joe", email="", payer=may)
    grant_portal(kit, joe)
    issued_invoice(practice, kit, tenant.biller, "40.00")
    issued_invoice(practice, joe, tenant.biller, "60.00")
    stranger = ClientFactory(practice=practice)
    issued_invoice(practice, stranger, tenant.biller, "70.00")
    browser = portal_signed_in(may)

    home = browser.get("/portal/").content.decode()
    assert "Pay Kit Last" in home and "Pay Joe Last" in home

    assert browser.post("/portal/pay-balance/", {"client": str(stranger.pk), "total": "70.00"}).status_code == 404
    started = browser.post("/portal/pay-balance/", {"client": str(joe.pk), "total": "60.00"})
    assert started.status_code == 303
    attempt = CheckoutAttempt.objects.get()
    assert attempt.client_id == joe.pk and attempt.amount == Decimal("60.00")


def test_no_pay_buttons_when_the_practice_takes_no_online_payments(tenant, ann):
    invoice = issued_invoice(tenant.practice, ann, tenant.biller, "90.00")
    browser = portal_signed_in(ann)
    assert "Pay full balance" not in browser.get("/portal/").content.decode()
    details = browser.get(f"/portal/invoices/{invoice.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "Make payment" not in details and "Download PDF" in details
