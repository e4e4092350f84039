"""Issue 14, part 4: Take payment on the staff invoice page. A biller opens Stripe's hosted
card page (the fake, over real HTTP) for the invoice's balance; the page Stripe sends the
browser back to says Processing until Stripe's own state says paid; a double click, a
second tab or a retry after Stripe failed makes at most one session and one charge."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.html import escape

from billing.models import Invoice, Payment
from billing.services import invoice_void
from billing.submission import FIELD, PAGE_OUT_OF_DATE, submission_key_new
from payments.checkout import INVOICE_CHANGED, INVOICE_PAID, INVOICE_VOID
from payments.models import CheckoutAttempt, StripeAccount
from payments.take_payment_views import (
    CANNOT_CHARGE,
    DISCONNECTED,
    NOT_SET_UP,
    PAYMENT_NOT_COMPLETED,
    PAYMENT_RECEIVED,
    STRIPE_UNREACHABLE,
)
from practice.models import OutgoingEmail
from tests.factories import ClientFactory, issued_invoice, pay
from tests.helpers import signed_in, url

from .helpers import CARD_DECLINED, CARD_OK, connected_account, pay_on_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana(tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima", email="ana@mail.test")


@pytest.fixture
def invoice(tenant, ana):
    return issued_invoice(tenant.practice, ana, tenant.biller, "150.00", "80.00")


@pytest.fixture
def account(app_on_fake, tenant):
    return StripeAccount.objects.create(
        practice=tenant.practice, stripe_account_id=connected_account(app_on_fake), charges_enabled=True
    )


def take(client, invoice, key=None, *, follow=False, **data):
    body = {"balance": str(invoice.balance), **data}
    if key is not None:
        body[FIELD] = key
    return client.post(url(invoice.practice, "payments:take_payment", invoice_id=invoice.pk), body, follow=follow)


def returned(client, invoice, attempt, *, follow=False, **extra):
    return client.get(
        url(invoice.practice, "payments:take_payment_return", invoice_id=invoice.pk),
        {"attempt": attempt.pk, **extra},
        follow=follow,
    )


def sessions_made(fake):
    return [r for r in fake.control.requests() if r["method"] == "POST" and r["path"] == "/v1/checkout/sessions"]


def stripe_objects(fake, kind):
    return [o for o in fake.control.call("GET", "state").values() if o.get("object") == kind]


def invoice_page(client, invoice):
    return client.get(url(invoice.practice, "billing:invoice", invoice_id=invoice.pk))


def test_a_biller_takes_a_card_payment_and_the_invoice_is_paid(app_on_fake, account, tenant, invoice):
    biller = signed_in(tenant.biller)
    page = invoice_page(biller, invoice)
    html = page.content.decode()
    assert 'data-testid="take-payment"' in html and "Take payment" in html
    # The form leads (through the app's redirect) to Stripe's hosted page: the page allows it.
    assert app_on_fake.url in page["Content-Security-Policy"].split("form-action")[1].split(";")[0]

    response = take(biller, invoice)
    assert response.status_code == 302
    assert response["Location"].startswith(app_on_fake.url)
    attempt = CheckoutAttempt.objects.get()
    assert attempt.source == CheckoutAttempt.Source.STAFF and attempt.created_by == tenant.biller
    assert attempt.amount == Decimal("230.00") and attempt.status == CheckoutAttempt.Status.OPEN
    (request,) = sessions_made(app_on_fake)
    assert request["stripe_account"] == account.stripe_account_id
    assert request["idempotency_key"] == f"checkout:{attempt.pk}:session"
    return_url = reverse(
        "payments:take_payment_return", kwargs={"practice_slug": tenant.practice.slug, "invoice_id": invoice.pk}
    )
    assert request["params"]["success_url"].endswith(f"{return_url}?attempt={attempt.pk}")

    # Back before paying (or a forged redirect): Processing, nothing recorded.
    early = returned(biller, invoice, attempt)
    assert early.status_code == 200
    assert 'data-testid="take-payment-processing"' in early.content.decode()
    assert not Payment.objects.exists()

    assert pay_on_page(app_on_fake, attempt.session_url, CARD_OK).status_code == 303
    done = returned(biller, invoice, attempt, follow=True)
    assert done.redirect_chain[-1][0] == invoice.get_absolute_url()
    html = done.content.decode()
    assert PAYMENT_RECEIVED.format(amount="$230.00", number=invoice.number) in html
    assert 'data-testid="invoice-status">Paid<' in html.replace("\n", "").replace("  ", "")
    payment = Payment.objects.get()
    assert payment.method == Payment.Method.CARD_ONLINE and payment.amount == Decimal("230.00")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID and invoice.balance == 0
    # The invoice no longer offers Take payment.
    assert 'data-testid="take-payment"' not in invoice_page(biller, invoice).content.decode()
    assert OutgoingEmail.objects.filter(topic="payment_receipt", to="ana@mail.test").count() == 1


@pytest.mark.parametrize("role", ["owner", "admin", "biller"])
def test_the_roles_that_bill_may_take_payment(app_on_fake, account, tenant, invoice, role):
    response = take(signed_in(tenant.member(role)), invoice)
    assert response.status_code == 302 and response["Location"].startswith(app_on_fake.url)


def test_a_clinician_may_not_take_payment(app_on_fake, account, tenant, ana):
    ana.clinicians.add(tenant.clinician)
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "90.00")
    clinician = signed_in(tenant.clinician)
    assert "Take payment" not in invoice_page(clinician, invoice).content.decode()
    assert take(clinician, invoice).status_code == 403
    assert not CheckoutAttempt.objects.exists() and not sessions_made(app_on_fake)


def test_another_practices_invoice_is_a_404(app_on_fake, account, tenant, other_tenant):
    theirs = issued_invoice(other_tenant.practice, ClientFactory(practice=other_tenant.practice), other_tenant.owner)
    owner = signed_in(tenant.owner)
    path = reverse("payments:take_payment", kwargs={"practice_slug": tenant.practice.slug, "invoice_id": theirs.pk})
    assert owner.post(path, {"balance": "100.00"}).status_code == 404
    assert not CheckoutAttempt.objects.exists() and not sessions_made(app_on_fake)


def test_another_invoices_attempt_on_the_return_page_is_a_404(app_on_fake, account, tenant, ana, invoice):
    biller = signed_in(tenant.biller)
    take(biller, invoice)
    attempt = CheckoutAttempt.objects.get()
    other = issued_invoice(tenant.practice, ana, tenant.biller, "20.00")
    assert returned(biller, other, attempt).status_code == 404
    assert biller.get(url(tenant, "payments:take_payment_return", invoice_id=invoice.pk)).status_code == 404


def test_a_double_click_makes_one_session(app_on_fake, account, tenant, invoice):
    biller = signed_in(tenant.biller)
    key = submission_key_new()
    first, second = take(biller, invoice, key), take(biller, invoice, key)
    assert first["Location"] == second["Location"]
    assert CheckoutAttempt.objects.count() == 1
    assert len(sessions_made(app_on_fake)) == 1


def test_two_tabs_share_one_session(app_on_fake, account, tenant, invoice):
    first = take(signed_in(tenant.biller), invoice)
    second = take(signed_in(tenant.owner), invoice)
    assert first["Location"] == second["Location"]
    assert CheckoutAttempt.objects.count() == 1
    assert len(stripe_objects(app_on_fake, "checkout.session")) == 1


def test_a_post_without_its_key_records_nothing(app_on_fake, account, tenant, invoice):
    from django.test import Client

    plain = Client()
    plain.force_login(tenant.biller)
    response = plain.post(url(tenant, "payments:take_payment", invoice_id=invoice.pk), {"balance": "230.00"})
    assert response.status_code == 302 and response["Location"] == invoice.get_absolute_url()
    assert not CheckoutAttempt.objects.exists() and not sessions_made(app_on_fake)
    assert PAGE_OUT_OF_DATE in plain.get(response["Location"]).content.decode()


@pytest.mark.parametrize("fault", ["500", "timeout"])
def test_stripe_failing_once_is_retried_with_the_same_key(app_on_fake, account, tenant, invoice, settings, fault):
    settings.STRIPE_TIMEOUT_SECONDS = 0.5
    # A timeout after Stripe made the session (the answer was lost): the retry gets it back.
    app_on_fake.control.fail_next(fault, delay=1.0, perform=True, method="POST", path="/v1/checkout/sessions")

    response = take(signed_in(tenant.biller), invoice)

    assert response.status_code == 302 and response["Location"].startswith(app_on_fake.url)
    attempt = CheckoutAttempt.objects.get()
    tries = sessions_made(app_on_fake)
    assert len(tries) == 2
    assert {t["idempotency_key"] for t in tries} == {f"checkout:{attempt.pk}:session"}
    assert len(stripe_objects(app_on_fake, "checkout.session")) == 1

    app_on_fake.control.pay_session(attempt.stripe_checkout_session_id)
    returned(signed_in(tenant.biller), invoice, attempt)
    assert len(stripe_objects(app_on_fake, "charge")) == 1
    assert Payment.objects.count() == 1


def test_stripe_down_says_so_and_the_next_click_reuses_the_attempt(app_on_fake, account, tenant, invoice):
    biller = signed_in(tenant.biller)
    key = submission_key_new()
    # stripe-python tries three times in all; each is answered 500.
    app_on_fake.control.fail_next("500", count=3, method="POST", path="/v1/checkout/sessions")

    response = take(biller, invoice, key)

    assert response.status_code == 302 and response["Location"] == invoice.get_absolute_url()
    assert STRIPE_UNREACHABLE in biller.get(response["Location"]).content.decode()
    assert not stripe_objects(app_on_fake, "checkout.session")
    attempt = CheckoutAttempt.objects.get()
    assert attempt.status == CheckoutAttempt.Status.CREATED

    # The same form again (its key was given back): the same attempt and key, one session.
    again = take(biller, invoice, key)
    assert again["Location"].startswith(app_on_fake.url)
    assert CheckoutAttempt.objects.get() == attempt
    assert {t["idempotency_key"] for t in sessions_made(app_on_fake)} == {f"checkout:{attempt.pk}:session"}
    assert len(stripe_objects(app_on_fake, "checkout.session")) == 1


def test_a_paid_or_void_invoice_takes_no_payment(app_on_fake, account, tenant, ana, invoice):
    biller = signed_in(tenant.biller)
    other = issued_invoice(tenant.practice, ana, tenant.biller, "40.00")
    # Forms shown before the invoice was paid, and before the other was voided.
    forms = [(invoice, "230.00", INVOICE_PAID), (other, "40.00", INVOICE_VOID)]
    pay(tenant.practice, ana, tenant.biller, "230.00", allocations={invoice.pk: Decimal("230.00")})
    invoice_void(invoice=other, actor=tenant.owner, reason="Entered twice")

    for target, shown, message in forms:
        target.refresh_from_db()
        assert 'data-testid="take-payment"' not in invoice_page(biller, target).content.decode()
        response = biller.post(
            url(tenant, "payments:take_payment", invoice_id=target.pk), {"balance": shown}, follow=True
        )
        assert response.redirect_chain[-1][0] == target.get_absolute_url()
        assert message in response.content.decode()
    assert not sessions_made(app_on_fake) and not CheckoutAttempt.objects.exists()


def test_an_invoice_changed_since_the_page_takes_no_payment(app_on_fake, account, tenant, ana, invoice):
    biller = signed_in(tenant.biller)
    shown = str(invoice.balance)
    pay(tenant.practice, ana, tenant.biller, "30.00", allocations={invoice.pk: Decimal("30.00")})

    page = biller.post(
        url(tenant, "payments:take_payment", invoice_id=invoice.pk), {"balance": shown}, follow=True
    ).content.decode()

    assert INVOICE_CHANGED in page
    assert not sessions_made(app_on_fake)


def test_cancel_on_stripes_page_goes_back_to_the_invoice(app_on_fake, account, tenant, invoice):
    biller = signed_in(tenant.biller)
    take(biller, invoice)
    attempt = CheckoutAttempt.objects.get()
    (request,) = sessions_made(app_on_fake)
    assert request["params"]["cancel_url"].endswith(f"?attempt={attempt.pk}&cancelled=1")

    response = returned(biller, invoice, attempt, cancelled="1", follow=True)

    assert response.redirect_chain[-1][0] == invoice.get_absolute_url()
    assert PAYMENT_NOT_COMPLETED in response.content.decode()
    assert not Payment.objects.exists()


def test_a_declined_card_stays_processing_and_records_nothing(app_on_fake, account, tenant, invoice):
    biller = signed_in(tenant.biller)
    take(biller, invoice)
    attempt = CheckoutAttempt.objects.get()
    assert pay_on_page(app_on_fake, attempt.session_url, CARD_DECLINED).status_code == 402

    assert 'data-testid="take-payment-processing"' in returned(biller, invoice, attempt).content.decode()
    assert not Payment.objects.exists()
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN


# --- an account that cannot take charges -------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "message"),
    [("none", NOT_SET_UP), ("disconnected", DISCONNECTED), ("not_enabled", CANNOT_CHARGE)],
)
def test_take_payment_explains_an_account_that_cannot_take_charges(app_on_fake, tenant, invoice, state, message):
    if state != "none":
        StripeAccount.objects.create(
            practice=tenant.practice,
            stripe_account_id=connected_account(app_on_fake),
            charges_enabled=state == "disconnected",
            disconnected_at="2026-01-01T00:00Z" if state == "disconnected" else None,
        )
    message = escape(message.format(status="Action required"))
    biller = signed_in(tenant.biller)

    html = invoice_page(biller, invoice).content.decode()
    assert 'data-testid="take-payment-unavailable"' in html and message in html
    assert "Open Online payments" not in html  # only an owner or admin can change it
    assert "Open Online payments" in invoice_page(signed_in(tenant.owner), invoice).content.decode()

    # A form from before the change: refused with the reason, nothing sent to Stripe.
    page = take(biller, invoice, follow=True).content.decode()
    assert message in page
    assert not sessions_made(app_on_fake) and not CheckoutAttempt.objects.exists()


def test_a_second_click_while_the_first_waits_for_stripe_gets_the_same_session(app_on_fake, account, tenant, invoice):
    from billing.models import SubmissionKey

    key = submission_key_new()
    # The first click's key is claimed and it has not heard from Stripe yet.
    SubmissionKey.objects.create(practice=tenant.practice, key=key, action="take payment", created_by=tenant.biller)

    second = take(signed_in(tenant.biller), invoice, key)
    first = take(signed_in(tenant.biller), invoice)

    assert second["Location"].startswith(app_on_fake.url) and second["Location"] == first["Location"]
    assert CheckoutAttempt.objects.count() == 1
    assert len(stripe_objects(app_on_fake, "checkout.session")) == 1
