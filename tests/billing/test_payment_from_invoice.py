"""Issue 9 part 4: Add payment opened from an invoice pays that invoice first; any other
allocation is shown before saving; a draft, paid, void or credit invoice takes no payment
and nothing is recorded."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing import services
from billing.models import Invoice, Payment
from billing.services import TAKES_NO_PAYMENTS, ledger_verify, payment_record_manual
from billing.views import payments as views
from tests.billing.helpers import post_payment
from tests.factories import ClientFactory, draft_invoice, give_credit, issued_invoice
from tests.helpers import url

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def ana(tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Smith")


@pytest.fixture
def two_open(tenant, ana) -> tuple[Invoice, Invoice]:
    """An older invoice of 100.00 (INV-14 in the report) and a newer one of 80.00 (INV-39)."""
    return issued_invoice(tenant.practice, ana, tenant.owner, "100.00"), issued_invoice(
        tenant.practice, ana, tenant.owner, "80.00"
    )


def balances(*invoices: Invoice) -> list[Decimal]:
    for invoice in invoices:
        invoice.refresh_from_db()
    return [invoice.balance for invoice in invoices]


def test_the_service_pays_the_invoice_it_was_opened_from_first(tenant, ana, two_open):
    older, newer = two_open

    payment_record_manual(
        practice=tenant.practice,
        client=ana,
        actor=tenant.biller,
        amount=D("30.00"),
        received_on=tenant.practice.local_today(),
        method="cash",
        for_invoice=newer,
    )

    assert balances(older, newer) == [D("100.00"), D("50.00")]
    assert ledger_verify(tenant.practice) == []


def test_the_form_lists_the_opened_invoice_first_with_its_balance_filled_in(tenant, biller, two_open):
    older, newer = two_open

    response = biller.get(url(tenant, "billing:payment_new"), {"invoice": newer.pk})

    assert [i.pk for i in response.context["open_invoices"]] == [newer.pk, older.pk]
    html = response.content.decode()
    assert html.index(f'name="alloc_{newer.pk}"') < html.index(f'name="alloc_{older.pk}"')
    assert f"{newer.number} first, then the oldest" in html


def test_a_part_payment_from_an_invoice_pays_that_invoice(tenant, biller, two_open):
    older, newer = two_open

    # When the biller opens Add payment from the newer invoice, changes the amount to 30
    # and leaves the allocation blank (or as the page's script fills it: to this invoice)
    response = post_payment(biller, tenant, {"invoice": newer.pk}, amount="30")

    # Then the newer invoice is partly paid and the older one is untouched
    assert response.status_code == 302 and response["Location"] == newer.get_absolute_url()
    assert balances(older, newer) == [D("100.00"), D("50.00")]
    page = biller.get(newer.get_absolute_url()).content.decode()
    assert 'data-testid="invoice-status">Partially paid<' in page
    assert ledger_verify(tenant.practice) == []


def test_more_than_the_invoice_owes_shows_where_the_rest_goes_before_saving(tenant, biller, two_open):
    older, newer = two_open

    # When 120.00 is paid from the newer invoice (owing 80.00) with no allocation typed
    shown = post_payment(biller, tenant, {"invoice": newer.pk}, amount="120")

    # Then nothing is saved yet: the page shows 80 to it and the other 40 to the older one
    assert shown.status_code == 200
    assert not Payment.objects.exists()
    html = shown.content.decode()
    assert views.ALLOCATION_CHECK.format(number=newer.number, owed="$80.00") in html
    form = shown.context["form"]
    assert (form[f"alloc_{newer.pk}"].value(), form[f"alloc_{older.pk}"].value()) == ("80", "40")

    # When the biller adds the payment as shown
    post_payment(
        biller, tenant, {"invoice": newer.pk}, amount="120", **{f"alloc_{newer.pk}": "80", f"alloc_{older.pk}": "40"}
    )

    # Then it is recorded as it was shown
    assert balances(older, newer) == [D("60.00"), D("0")]
    assert Payment.objects.get().amount == D("120.00")
    assert ledger_verify(tenant.practice) == []


def test_a_stale_allocation_larger_than_the_amount_is_an_error_not_a_silent_change(tenant, biller, two_open):
    _older, newer = two_open

    # Without the page's script, the amount is changed but the filled-in 80 stays
    response = post_payment(biller, tenant, {"invoice": newer.pk}, amount="30", **{f"alloc_{newer.pk}": "80"})

    assert response.status_code == 400
    assert services.ALLOCATIONS_EXCEED in response.content.decode()
    assert not Payment.objects.exists()


def voided(tenant, ana) -> Invoice:
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "90.00")
    return services.invoice_void(invoice=invoice, actor=tenant.biller, reason="Mistake")


def paid(tenant, ana) -> Invoice:
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "90.00")
    services.invoice_mark_paid(invoice=invoice, actor=tenant.biller, method="cash")
    invoice.refresh_from_db()
    return invoice


def draft(tenant, ana) -> Invoice:
    return draft_invoice(tenant.practice, ana, tenant.biller, "90.00")


def credit(tenant, ana) -> Invoice:
    return give_credit(tenant.practice, ana, tenant.owner, "40.00")


@pytest.mark.parametrize(
    ("make", "status"), [(voided, "void"), (paid, "paid"), (draft, "a draft"), (credit, "a credit invoice")]
)
def test_add_payment_from_an_invoice_that_takes_none_is_refused(tenant, biller, ana, two_open, make, status):
    older, newer = two_open
    invoice = make(tenant, ana)
    payments_before = Payment.objects.count()
    message = TAKES_NO_PAYMENTS.format(number=str(invoice), status=status)
    if status == "void":
        assert message == f"{invoice.number} is void: it takes no payments."

    # When the biller opens Add payment from it, then the invoice page says why
    opened = biller.get(url(tenant, "billing:payment_new"), {"invoice": invoice.pk}, follow=True)
    assert message in opened.content.decode()
    assert opened.redirect_chain[-1][0] == invoice.get_absolute_url()

    # When a payment is posted anyway, then nothing is recorded anywhere
    posted = post_payment(biller, tenant, {"invoice": invoice.pk}, amount="50")
    assert posted.status_code == 302 and posted["Location"] == invoice.get_absolute_url()
    assert Payment.objects.count() == payments_before
    assert balances(older, newer) == [D("100.00"), D("80.00")]
    assert ledger_verify(tenant.practice) == []


def test_the_service_refuses_an_invoice_voided_since_the_form_was_shown(tenant, ana, two_open):
    older, newer = two_open
    stale = Invoice.objects.get(pk=newer.pk)
    services.invoice_void(invoice=newer, actor=tenant.biller, reason="Mistake")

    with pytest.raises(ValidationError) as exc:
        payment_record_manual(
            practice=tenant.practice,
            client=ana,
            actor=tenant.biller,
            amount=D("30.00"),
            received_on=tenant.practice.local_today(),
            method="cash",
            for_invoice=stale,
        )

    assert exc.value.messages == [f"{newer.number} is void: it takes no payments."]
    assert not Payment.objects.exists()
    assert balances(older) == [D("100.00")]
    assert ledger_verify(tenant.practice) == []
