"""Invoices as a biller lives them, through the services: draft, issue, numbering and due
dates, edit, delete, void, overdue, packages, Invoice all uninvoiced, and bad input.

Each test reads given / when / then and asserts what the biller sees: the status badge
(display_status), total, credit applied, amount paid, balance, the client's balance and
credit balance, and the ledger rows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from billing import services
from billing.models import BillingItem, Invoice, InvoiceLine, LedgerEntry, Package, Payment
from billing.money import line_amounts
from practice.models import AuditLog
from tests.billing.helpers import books, figures, ledger_kinds, reload, uninvoiced
from tests.factories import (
    ClientFactory,
    ServiceFactory,
    completed_session_items,
    draft_invoice,
    give_credit,
    issued_invoice,
    make_item,
    make_items,
    pay,
)

D = Decimal
K = LedgerEntry.Kind

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana(practice):
    return ClientFactory(practice=practice, first_name="Ana", last_name="Aho")


# --- draft and issue ----------------------------------------------------------------------


def test_a_draft_takes_the_chosen_items_off_the_uninvoiced_list(tenant, practice, ana):
    # Given three uninvoiced items, one with 10% tax
    first, second, third = make_items(practice, ana, "100.00", "50.00", "70.00")
    taxed = make_item(practice, ana, "50.00", tax="10")
    # When the biller creates a draft from two of them and the taxed one
    invoice = services.invoice_create(
        practice=practice, client=ana, actor=tenant.biller, item_ids=[first.pk, second.pk, taxed.pk]
    )
    # Then it is a draft without a number for 150 + 50 + 5 tax, and nothing is owed yet
    assert figures(invoice) == ("Draft", D("205.00"), D("0"), D("0"), D("205.00"))
    assert invoice.number is None and invoice.issue_date is None
    assert (invoice.subtotal, invoice.tax) == (D("200.00"), D("5.00"))
    assert InvoiceLine.objects.filter(invoice=invoice).count() == 3
    # and only the item not chosen is still uninvoiced
    assert uninvoiced(ana) == {third.pk}
    assert ledger_kinds(ana) == []
    assert books(ana) == (D("0"), D("0"))


def test_nothing_chosen_is_refused(tenant, practice, ana):
    with pytest.raises(ValidationError) as exc:
        services.invoice_create(practice=practice, client=ana, actor=tenant.biller, item_ids=[])
    assert exc.value.messages == [services.NOTHING_TO_INVOICE]
    assert not Invoice.objects.exists()


def test_create_and_issue_numbers_with_the_practice_prefix_and_dates_in_local_time(tenant, practice, ana):
    # Given a practice numbering from HS-000120 with 30-day terms, in New York
    practice.invoice_prefix, practice.invoice_start_number, practice.payment_terms_days = "HS-", 120, 30
    practice.save()
    # When an invoice is created and issued at 02:30 UTC on 10 March (still 9 March in New York)
    with time_machine.travel(datetime(2025, 3, 10, 2, 30, tzinfo=UTC), tick=False):
        items = make_items(practice, ana, "100.00", "20.00")
        invoice = services.invoice_create(
            practice=practice, client=ana, actor=tenant.biller, item_ids=[i.pk for i in items], issue=True
        )
        later = issued_invoice(practice, ana, tenant.biller, "10.00")
        # Then it is open (that day), numbered HS-000120, issued on the local date and due 30 days later
        assert figures(invoice) == ("Open", D("120.00"), D("0"), D("0"), D("120.00"))
    invoice = reload(invoice)
    assert invoice.number == "HS-000120" and invoice.sequence == 120
    assert (invoice.issue_date, invoice.due_date) == (date(2025, 3, 9), date(2025, 4, 8))
    # and the next one follows it
    assert reload(later).number == "HS-000121"
    # and the client owes both, one ledger row per issued invoice
    assert ledger_kinds(ana) == [(K.INVOICE_ISSUED, D("120.00"), D("0")), (K.INVOICE_ISSUED, D("10.00"), D("0"))]
    assert books(ana) == (D("130.00"), D("0"))


def test_default_numbers_are_inv_and_six_digits_and_on_receipt_is_due_today(tenant, practice, ana):
    practice.payment_terms_days = 0
    practice.save()
    draft = draft_invoice(practice, ana, tenant.biller, "80.00")

    invoice = services.invoice_issue(invoice=draft, actor=tenant.biller)

    invoice = reload(invoice)
    assert invoice.number == "INV-000001"
    assert invoice.issue_date == invoice.due_date == practice.local_today()
    assert AuditLog.objects.filter(action="invoice.issued", object_id=str(invoice.pk)).count() == 1
    # Issuing twice is refused
    with pytest.raises(ValidationError) as exc:
        services.invoice_issue(invoice=invoice, actor=tenant.biller)
    assert exc.value.messages == [services.NOT_DRAFT]


# --- editing and deleting ------------------------------------------------------------------


def test_a_draft_is_edited_freely_and_its_removed_items_return_to_uninvoiced(tenant, practice, ana):
    # Given a draft of two items, and a third item not on it
    first, second, spare = make_items(practice, ana, "100.00", "50.00", "40.00")
    invoice = services.invoice_create(
        practice=practice, client=ana, actor=tenant.biller, item_ids=[first.pk, second.pk]
    )
    lines = {line.billing_item_id: line for line in invoice.lines.all()}
    # When the biller changes the first line to 2 units at 90 with 10% tax, removes the second,
    # adds the spare item and a free line
    services.invoice_update(
        invoice=invoice,
        actor=tenant.biller,
        line_changes={
            lines[first.pk].pk: services.ItemAdjustment(units=D("2"), unit_price=D("90"), tax_percent=D("10"))
        },
        remove_line_ids=[lines[second.pk].pk],
        add_item_ids=[spare.pk],
        add_lines=[services.LineInput(description="Report", unit_price=D("25.00"))],
    )
    # Then the draft shows 180 + 18 tax + 40 + 25, the removed item is uninvoiced again,
    # the changed item says what its line says, and no money moved
    assert figures(invoice) == ("Draft", D("263.00"), D("0"), D("0"), D("263.00"))
    assert uninvoiced(ana) == {second.pk}
    assert reload(first).amount == D("198.00")
    assert ledger_kinds(ana) == []
    # When the draft is deleted
    services.invoice_delete_draft(invoice=invoice, actor=tenant.biller)
    # Then it is gone and all its items are uninvoiced again
    assert not Invoice.objects.filter(pk=invoice.pk).exists()
    assert uninvoiced(ana) == {first.pk, second.pk, spare.pk}
    assert AuditLog.objects.filter(action="invoice.draft_deleted", object_id=str(invoice.pk)).exists()


def test_an_open_invoice_cannot_be_deleted(tenant, practice, ana):
    invoice = issued_invoice(practice, ana, tenant.biller)
    with pytest.raises(ValidationError) as exc:
        services.invoice_delete_draft(invoice=invoice, actor=tenant.biller)
    assert exc.value.messages == [services.DRAFT_ONLY_DELETE]
    assert reload(invoice).status == Invoice.Status.OPEN


def test_an_open_invoice_without_payments_is_edited_with_a_ledger_entry_and_an_audit_row(tenant, practice, ana):
    # Given an open invoice of 100
    invoice = issued_invoice(practice, ana, tenant.biller, "100.00")
    line = invoice.lines.get()
    # When the biller raises the price to 120
    services.invoice_update(
        invoice=invoice,
        actor=tenant.biller,
        line_changes={line.pk: services.ItemAdjustment(units=D("1"), unit_price=D("120.00"), tax_percent=D("0"))},
    )
    # Then the invoice shows 120 owed and the ledger has the difference
    assert figures(invoice) == ("Open", D("120.00"), D("0"), D("0"), D("120.00"))
    assert ledger_kinds(ana) == [(K.INVOICE_ISSUED, D("100.00"), D("0")), (K.INVOICE_ADJUSTED, D("20.00"), D("0"))]
    assert books(ana) == (D("120.00"), D("0"))
    # and the audit log says who changed what
    row = AuditLog.objects.get(action="invoice.edited", object_id=str(invoice.pk))
    assert row.actor == tenant.biller
    assert [D(x) for x in row.changes["total"]] == [D("100"), D("120")]
    assert services.ledger_verify(practice) == []


def test_an_invoice_with_a_payment_cannot_be_edited(tenant, practice, ana):
    # Given an open invoice of 100 with 30 paid
    invoice = issued_invoice(practice, ana, tenant.biller, "100.00")
    line = invoice.lines.get()
    pay(practice, ana, tenant.biller, "30.00")
    # When the biller tries to change it
    with pytest.raises(ValidationError) as exc:
        services.invoice_update(
            invoice=invoice,
            actor=tenant.biller,
            line_changes={line.pk: services.ItemAdjustment(units=D("1"), unit_price=D("50"), tax_percent=D("0"))},
        )
    # Then they are told to issue a credit invoice, and nothing changed
    assert exc.value.messages == [services.NOT_EDITABLE]
    assert figures(invoice) == ("Partially paid", D("100.00"), D("0"), D("30.00"), D("70.00"))
    assert reload(line).unit_price == D("100.00")


def test_an_edit_with_a_negative_price_is_a_field_error_and_nothing_changes(tenant, practice, ana):
    invoice = issued_invoice(practice, ana, tenant.biller, "100.00")
    line = invoice.lines.get()

    with pytest.raises(ValidationError) as exc:
        services.invoice_update(
            invoice=invoice,
            actor=tenant.biller,
            line_changes={line.pk: services.ItemAdjustment(units=D("1"), unit_price=D("-120"), tax_percent=D("0"))},
        )

    assert "unit_price" in exc.value.message_dict
    assert figures(invoice) == ("Open", D("100.00"), D("0"), D("0"), D("100.00"))
    assert reload(line).unit_price == D("100.00")
    assert books(ana) == (D("100.00"), D("0"))


# --- void ------------------------------------------------------------------------------------


def test_void_with_a_reason_releases_the_items_reverses_the_ledger_and_returns_credit(tenant, practice, ana):
    # Given 30 of credit and an open invoice of two items with that credit applied
    give_credit(practice, ana, tenant.biller, "30.00")
    items = make_items(practice, ana, "100.00", "50.00")
    invoice = services.invoice_create(
        practice=practice,
        client=ana,
        actor=tenant.biller,
        item_ids=[i.pk for i in items],
        issue=True,
        apply_credit=True,
    )
    assert figures(invoice) == ("Partially paid", D("150.00"), D("30.00"), D("0"), D("120.00"))
    assert books(ana) == (D("120.00"), D("0"))
    # When it is voided with a reason
    services.invoice_void(invoice=invoice, actor=tenant.biller, reason="Wrong client")
    # Then it shows Void, owes nothing, keeps its number and total
    invoice = reload(invoice)
    assert figures(invoice) == ("Void", D("150.00"), D("0"), D("0"), D("0"))
    assert invoice.number == "INV-000002" and invoice.void_reason == "Wrong client"
    # and its items are uninvoiced again (and can go on a new invoice)
    assert uninvoiced(ana) == {i.pk for i in items}
    assert not InvoiceLine.objects.filter(invoice=invoice, active=True).exists()
    # and the ledger gave the credit back and took the invoice off the balance
    assert ledger_kinds(ana)[-2:] == [
        (K.CREDIT_RETURNED, D("30.00"), D("30.00")),
        (K.INVOICE_VOIDED, D("-150.00"), D("0")),
    ]
    assert books(ana) == (D("0"), D("30.00"))
    again = services.invoice_create(practice=practice, client=ana, actor=tenant.biller, item_ids=[i.pk for i in items])
    assert again.total == D("150.00")
    assert services.ledger_verify(practice) == []


def test_void_needs_a_reason(tenant, practice, ana):
    invoice = issued_invoice(practice, ana, tenant.biller)
    with pytest.raises(ValidationError) as exc:
        services.invoice_void(invoice=invoice, actor=tenant.biller, reason="  ")
    assert exc.value.message_dict == {"reason": [services.REASON_REQUIRED]}
    assert figures(invoice) == ("Open", D("100.00"), D("0"), D("0"), D("100.00"))


def test_a_paid_invoice_cannot_be_voided_and_the_message_says_refund_or_credit_invoice(tenant, practice, ana):
    invoice = issued_invoice(practice, ana, tenant.biller, "100.00")
    services.invoice_mark_paid(invoice=reload(invoice), actor=tenant.biller)

    with pytest.raises(ValidationError) as exc:
        services.invoice_void(invoice=invoice, actor=tenant.biller, reason="Changed my mind")

    assert exc.value.messages == [services.VOID_PAID]
    assert "credit invoice" in services.VOID_PAID and "Record refund" in services.VOID_PAID
    assert figures(invoice) == ("Paid", D("100.00"), D("0"), D("100.00"), D("0"))
    assert books(ana) == (D("0"), D("0"))


def test_a_draft_cannot_be_voided(tenant, practice, ana):
    invoice = draft_invoice(practice, ana, tenant.biller)
    with pytest.raises(ValidationError) as exc:
        services.invoice_void(invoice=invoice, actor=tenant.biller, reason="No")
    assert exc.value.messages == [services.VOID_NOT_OPEN]


# --- overdue -------------------------------------------------------------------------------


def test_overdue_is_shown_after_the_due_date_until_paid(tenant, practice, ana):
    # Given an invoice issued on 1 March with 14-day terms
    with time_machine.travel(datetime(2025, 3, 1, 15, 0, tzinfo=UTC), tick=False):
        invoice = issued_invoice(practice, ana, tenant.biller, "100.00")
    assert reload(invoice).due_date == date(2025, 3, 15)
    # On the due date (in New York) it is still Open
    with time_machine.travel(datetime(2025, 3, 16, 3, 0, tzinfo=UTC), tick=False):
        assert figures(invoice)[0] == "Open"
    # The day after, it is Overdue, also when partly paid
    with time_machine.travel(datetime(2025, 3, 16, 15, 0, tzinfo=UTC), tick=False):
        assert figures(invoice)[0] == "Overdue"
        pay(practice, ana, tenant.biller, "40.00")
        assert figures(invoice) == ("Overdue", D("100.00"), D("0"), D("40.00"), D("60.00"))
        # and once paid it is Paid, not overdue
        services.invoice_mark_paid(invoice=reload(invoice), actor=tenant.biller)
        assert figures(invoice) == ("Paid", D("100.00"), D("0"), D("100.00"), D("0"))


# --- packages ------------------------------------------------------------------------------


def test_a_package_is_sold_drawn_down_by_sessions_then_falls_back_to_items_and_refunds_unused(tenant, practice, ana):
    # Given a package of 3 individual sessions for 390, sold to Ana
    therapy = ServiceFactory(practice=practice, name="Individual therapy", price=D("150.00"))
    package = Package.objects.create(practice=practice, name="Three", service=therapy, sessions=3, price=D("390.00"))
    purchase = services.package_sell(practice=practice, client=ana, package=package, actor=tenant.biller)
    # Then its invoice is open for 390 and Ana owes it
    assert figures(purchase.invoice) == ("Open", D("390.00"), D("0"), D("0"), D("390.00"))
    assert books(ana) == (D("390.00"), D("0"))
    # When two sessions of that service are completed, they draw the package and bill nothing
    for days in (6, 5):
        assert completed_session_items(practice, tenant.biller, tenant.clinician, ana, therapy, days_ago=days) == []
    assert reload(purchase).sessions_left == 1
    assert uninvoiced(ana) == set()
    # When Ana pays for the package and the last session is refunded through a credit invoice
    pay(practice, ana, tenant.biller, "390.00")
    credit = services.package_refund_unused(purchase=purchase, actor=tenant.biller, sessions=1, reason="Moved away")
    # Then a credit invoice of -130 is issued and Ana has 130 of credit
    assert figures(credit) == ("Issued", D("-130.00"), D("0"), D("0"), D("0"))
    assert reload(purchase).sessions_left == 0
    assert books(ana) == (D("0"), D("130.00"))
    # and the next session is billed as a normal item at the service's price
    (item,) = completed_session_items(practice, tenant.biller, tenant.clinician, ana, therapy, days_ago=2)
    assert item.amount == D("150.00") and not item.is_invoiced
    # Refunding more sessions than are left is refused
    with pytest.raises(ValidationError) as exc:
        services.package_refund_unused(purchase=purchase, actor=tenant.biller, sessions=1, reason="Again")
    assert exc.value.message_dict == {"sessions": [services.PACKAGE_REFUND_TOO_MANY]}
    assert services.ledger_verify(practice) == []


def test_an_expired_package_leaves_the_session_to_a_normal_item(tenant, practice, ana):
    therapy = ServiceFactory(practice=practice, price=D("150.00"))
    package = Package.objects.create(
        practice=practice, name="Quick", service=therapy, sessions=5, price=D("600.00"), valid_days=10
    )
    with time_machine.travel(datetime(2025, 1, 2, 15, 0, tzinfo=UTC), tick=False):
        purchase = services.package_sell(practice=practice, client=ana, package=package, actor=tenant.biller)
    assert purchase.expires_on == date(2025, 1, 12)
    # A session after the expiry date is billed, and the package is not drawn
    (item,) = completed_session_items(practice, tenant.biller, tenant.clinician, ana, therapy, days_ago=2)
    assert item.amount == D("150.00")
    assert reload(purchase).sessions_used == 0


# --- Invoice all uninvoiced -----------------------------------------------------------------


def test_invoice_all_uninvoiced_makes_one_invoice_per_client_and_nothing_twice(tenant, practice, ana):
    # Given items in the range for two clients, one outside it, and a client with nothing
    ben = ClientFactory(practice=practice, first_name="Ben")
    ClientFactory(practice=practice, first_name="Cleo")
    today = practice.local_today()
    ana_items = make_items(practice, ana, "100.00", "50.00", days_ago=5)
    ben_item = make_item(practice, ben, "80.00", days_ago=4)
    old = make_item(practice, ana, "70.00", days_ago=40)
    # When the biller invoices everything of the last 10 days
    created = services.invoice_all_uninvoiced(
        practice=practice, actor=tenant.biller, date_from=today - timedelta(days=10), date_to=today
    )
    # Then Ana and Ben each have one open invoice of their items, and the old item waits
    assert sorted((i.client_id, i.total, i.status) for i in created) == sorted(
        [(ana.pk, D("150.00"), "open"), (ben.pk, D("80.00"), "open")]
    )
    assert uninvoiced(ana) == {old.pk} and uninvoiced(ben) == set()
    assert {i.pk for i in ana_items} | {ben_item.pk} <= set(
        BillingItem.objects.filter(invoice__in=created).values_list("pk", flat=True)
    )
    # When it is run again
    again = services.invoice_all_uninvoiced(
        practice=practice, actor=tenant.biller, date_from=today - timedelta(days=10), date_to=today
    )
    # Then nothing new is created
    assert again == []
    assert Invoice.objects.filter(practice=practice).count() == 2
    assert books(ana) == (D("150.00"), D("0")) and books(ben) == (D("80.00"), D("0"))


def test_invoice_all_uninvoiced_leaves_other_practices_alone(tenant, other_tenant, practice, ana):
    twin = ClientFactory(practice=other_tenant.practice, first_name="Ana")
    make_item(other_tenant.practice, twin, "90.00")
    make_item(practice, ana, "100.00")
    today = practice.local_today()

    created = services.invoice_all_uninvoiced(
        practice=practice, actor=tenant.biller, date_from=today - timedelta(days=10), date_to=today
    )

    assert [i.client_id for i in created] == [ana.pk]
    assert len(uninvoiced(twin)) == 1


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["", "abc", "12.3.4", "NaN", "Infinity", "-inf", "1e", None, "1 2"])
def test_parse_amount_refuses_malformed_input_with_a_field_error(raw):
    with pytest.raises(ValidationError) as exc:
        services.parse_amount(raw, "amount")
    assert "amount" in exc.value.message_dict


@pytest.mark.parametrize(("raw", "value"), [("120", D("120")), (" 1,200.50 ", D("1200.50")), ("-5", D("-5"))])
def test_parse_amount_reads_plain_amounts(raw, value):
    assert services.parse_amount(raw) == value


def nothing_saved(client) -> None:
    assert not Invoice.objects.filter(client=client).exists()
    assert not Payment.objects.filter(client=client).exists()
    assert ledger_kinds(client) == []


@pytest.mark.parametrize(
    ("field", "line"),
    [
        ("unit_price", services.LineInput(description="Report", unit_price=D("-10"))),
        ("units", services.LineInput(description="Report", unit_price=D("10"), units=D("0"))),
        ("tax_percent", services.LineInput(description="Report", unit_price=D("10"), tax_percent=D("101"))),
        ("description", services.LineInput(description="  ", unit_price=D("10"))),
    ],
)
def test_a_bad_free_line_saves_nothing_not_even_the_chosen_items(tenant, practice, ana, field, line):
    item = make_item(practice, ana, "100.00")
    with pytest.raises(ValidationError) as exc:
        services.invoice_create(
            practice=practice, client=ana, actor=tenant.biller, item_ids=[item.pk], lines=[line], issue=True
        )
    assert field in exc.value.message_dict
    nothing_saved(ana)
    assert uninvoiced(ana) == {item.pk}
    assert not InvoiceLine.objects.exists()


@pytest.mark.parametrize(
    ("field", "adjustment"),
    [
        ("unit_price", services.ItemAdjustment(units=D("1"), unit_price=D("-1"), tax_percent=D("0"))),
        ("units", services.ItemAdjustment(units=D("-2"), unit_price=D("10"), tax_percent=D("0"))),
        ("tax_percent", services.ItemAdjustment(units=D("1"), unit_price=D("10"), tax_percent=D("-5"))),
    ],
)
def test_a_bad_adjustment_of_an_item_saves_nothing(tenant, practice, ana, field, adjustment):
    item = make_item(practice, ana, "100.00")
    with pytest.raises(ValidationError) as exc:
        services.invoice_create(
            practice=practice, client=ana, actor=tenant.biller, item_ids=[item.pk], adjustments={item.pk: adjustment}
        )
    assert field in exc.value.message_dict
    nothing_saved(ana)
    item = reload(item)
    assert (item.unit_price, item.amount, item.invoice_id) == (D("100.00"), D("100.00"), None)


def test_a_client_of_another_practice_cannot_be_invoiced(tenant, other_tenant, practice):
    twin = ClientFactory(practice=other_tenant.practice)
    item = make_item(other_tenant.practice, twin)
    with pytest.raises(ValidationError):
        services.invoice_create(practice=practice, client=twin, actor=tenant.biller, item_ids=[item.pk])
    nothing_saved(twin)


def test_another_clients_items_cannot_be_taken(tenant, practice, ana):
    ben = ClientFactory(practice=practice)
    bens_item = make_item(practice, ben)
    with pytest.raises(ValidationError) as exc:
        services.invoice_create(practice=practice, client=ana, actor=tenant.biller, item_ids=[bens_item.pk])
    assert exc.value.code == "items_taken"
    nothing_saved(ana)
    assert uninvoiced(ben) == {bens_item.pk}


def test_a_line_total_is_the_rounded_line(tenant, practice, ana):
    # 3 x 33.335 with 7.5% tax: the line is rounded, then its tax, half-up
    invoice = services.invoice_create(
        practice=practice,
        client=ana,
        actor=tenant.biller,
        lines=[services.LineInput(description="Odd", unit_price=D("33.335"), units=D("3"), tax_percent=D("7.5"))],
    )
    expected = line_amounts(units=D("3"), unit_price=D("33.335"), tax_percent=D("7.5"), currency="USD")
    assert (invoice.subtotal, invoice.tax, invoice.total) == (D("100.01"), D("7.50"), D("107.51"))
    assert invoice.total == expected.gross
