"""Issue 9 part 3: voiding a package refund's credit invoice gives the refunded sessions
back (while its credit is unused), and the message after a void says what really happened."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import ClientAccount, Invoice, Package, PackagePurchase
from billing.selectors import package_summary
from billing.services import (
    VOID_CREDIT_USED,
    LineInput,
    credit_invoice_create,
    invoice_create,
    invoice_mark_paid,
    invoice_void,
    ledger_verify,
    package_refund_unused,
    package_sell,
)
from billing.views import invoices as views
from tests.factories import ClientFactory, ServiceFactory, make_item
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def ana(tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima")


@pytest.fixture
def purchase(tenant, ana) -> PackagePurchase:
    """A paid package of 10 sessions for 1350.00, 6 of them used."""
    service = ServiceFactory(practice=tenant.practice, name="Counselling", price=D("150.00"))
    package = Package.objects.create(
        practice=tenant.practice, name="10 sessions", service=service, sessions=10, price=D("1350.00")
    )
    bought = package_sell(practice=tenant.practice, client=ana, package=package, actor=tenant.biller)
    invoice_mark_paid(invoice=bought.invoice, actor=tenant.biller, method="cash")
    PackagePurchase.objects.filter(pk=bought.pk).update(sessions_used=6)
    bought.refresh_from_db()
    return bought


def void_url(tenant, invoice: Invoice) -> str:
    return reverse("billing:invoice_void", kwargs={"practice_slug": tenant.practice.slug, "invoice_id": invoice.pk})


def test_voiding_a_package_refund_gives_the_sessions_back_with_the_credit(tenant, ana, purchase):
    # Given 4 unused sessions refunded as a credit of 540.00
    credit = package_refund_unused(purchase=purchase, actor=tenant.biller, sessions=4, reason="Moving away")
    purchase.refresh_from_db()
    assert purchase.sessions_left == 0

    # When the biller voids that credit invoice
    response = signed_in(tenant.biller).post(void_url(tenant, credit), {"reason": "Staying after all"}, follow=True)

    # Then the credit is gone and the 4 sessions are back on the package: nothing is lost
    page = response.content.decode()
    credit.refresh_from_db()
    purchase.refresh_from_db()
    assert credit.status == "void"
    assert (purchase.sessions_refunded, purchase.sessions_left) == (0, 4)
    assert package_summary(tenant.practice, ana).sessions_left == 4
    assert ClientAccount.objects.get(client=ana).credit_balance == 0
    message = views.CREDIT_VOIDED_SESSIONS.format(number=credit.number, amount="$540.00", sessions=4)
    assert message.replace("'", "&#x27;") in page
    assert "uninvoiced again" not in page
    assert ledger_verify(tenant.practice) == []


def test_a_package_refund_whose_credit_was_used_cannot_be_voided(tenant, ana, purchase):
    # Given the refund's 540.00 credit applied to a later invoice
    credit = package_refund_unused(purchase=purchase, actor=tenant.biller, sessions=4, reason="Moving away")
    make_item(tenant.practice, ana, "600.00")
    invoice_create(
        practice=tenant.practice,
        client=ana,
        actor=tenant.biller,
        item_ids=list(ana.billing_items.filter(invoice__isnull=True).values_list("pk", flat=True)),
        apply_credit=True,
        issue=True,
    )

    # When the biller voids the credit invoice, then it is refused and nothing moves
    response = signed_in(tenant.biller).post(void_url(tenant, credit), {"reason": "Oops"})
    assert response.status_code == 400
    assert VOID_CREDIT_USED in response.content.decode()
    credit.refresh_from_db()
    purchase.refresh_from_db()
    assert (credit.status, purchase.sessions_refunded) == ("open", 4)
    assert ledger_verify(tenant.practice) == []


def test_one_of_two_refunds_voided_returns_only_its_own_sessions(tenant, ana, purchase):
    first = package_refund_unused(purchase=purchase, actor=tenant.biller, sessions=1, reason="One")
    package_refund_unused(purchase=purchase, actor=tenant.biller, sessions=3, reason="Three")

    invoice_void(invoice=first, actor=tenant.biller, reason="Kept that one")

    purchase.refresh_from_db()
    assert (purchase.sessions_refunded, purchase.sessions_left) == (3, 1)
    assert ClientAccount.objects.get(client=ana).credit_balance == D("405.00")
    assert ledger_verify(tenant.practice) == []


def test_voiding_a_plain_credit_invoice_says_credit_not_items(tenant, ana):
    credit = credit_invoice_create(
        practice=tenant.practice,
        client=ana,
        actor=tenant.biller,
        reason="Goodwill",
        lines=[LineInput(description="Goodwill", unit_price=D("25.00"))],
    )

    page = signed_in(tenant.biller).post(void_url(tenant, credit), {"reason": "Mistake"}, follow=True)

    text = page.content.decode()
    assert views.CREDIT_VOIDED.format(number=credit.number, amount="$25.00").replace("'", "&#x27;") in text
    assert "uninvoiced again" not in text
    assert ledger_verify(tenant.practice) == []


def test_voiding_an_invoice_of_free_lines_only_claims_no_items(tenant, ana):
    invoice = invoice_create(
        practice=tenant.practice,
        client=ana,
        actor=tenant.biller,
        lines=[LineInput(description="Report", unit_price=D("80.00"))],
        issue=True,
    )

    text = signed_in(tenant.biller).post(void_url(tenant, invoice), {"reason": "Mistake"}, follow=True)
    text = text.content.decode()

    assert views.INVOICE_VOIDED_NO_ITEMS.format(number=invoice.number) in text
    assert "uninvoiced again" not in text


def test_voiding_an_invoice_with_items_still_says_they_are_uninvoiced_again(tenant, ana):
    item = make_item(tenant.practice, ana, "100.00")
    invoice = invoice_create(practice=tenant.practice, client=ana, actor=tenant.biller, item_ids=[item.pk], issue=True)

    text = signed_in(tenant.biller).post(void_url(tenant, invoice), {"reason": "Mistake"}, follow=True)

    assert views.INVOICE_VOIDED.format(number=invoice.number) in text.content.decode()
    item.refresh_from_db()
    assert item.invoice_id is None
