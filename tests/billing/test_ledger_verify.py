"""ledger_verify (the check and the management command) proves the books agree, and names
what does not when a stored figure was changed behind the services' back."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.db.models import F

from billing import services
from billing.models import ClientAccount, Invoice
from tests.factories import ClientFactory, give_credit, issued_invoice, pay

D = Decimal


def some_books(tenant, practice) -> dict[str, Invoice]:
    """Ana: a paid invoice, a partly paid one with credit applied, a credit invoice, a void one."""
    ana = ClientFactory(practice=practice, first_name="Ana")
    paid = issued_invoice(practice, ana, tenant.biller, "100.00")
    pay(practice, ana, tenant.biller, "100.00")
    give_credit(practice, ana, tenant.biller, "20.00")
    partly = issued_invoice(practice, ana, tenant.biller, "80.00", apply_credit=True)
    pay(practice, ana, tenant.biller, "10.00")
    void = issued_invoice(practice, ana, tenant.biller, "55.00")
    services.invoice_void(invoice=void, actor=tenant.biller, reason="Duplicate")
    return {"paid": Invoice.objects.get(pk=paid.pk), "partly": Invoice.objects.get(pk=partly.pk)}


def tamper_totals(invoice: Invoice) -> None:
    """Raise the stored subtotal, total and balance by 10, keeping the database's own sums true."""
    Invoice.objects.filter(pk=invoice.pk).update(
        subtotal=F("subtotal") + 10, total=F("total") + 10, balance=F("balance") + 10
    )


def run_command(*args: str) -> int:
    """``manage.py ledger_verify`` as a shell runs it; returns the exit status."""
    try:
        ManagementUtility(["manage.py", "ledger_verify", *args]).execute()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.mark.django_db
def test_consistent_books_verify(tenant, practice):
    some_books(tenant, practice)
    out = StringIO()

    call_command("ledger_verify", stdout=out)

    assert services.ledger_verify(practice) == []
    assert services.ledger_verify() == []
    assert "Ledger verified" in out.getvalue()


@pytest.mark.django_db
def test_tampered_invoice_totals_are_named(tenant, practice):
    books = some_books(tenant, practice)
    tamper_totals(books["partly"])
    err = StringIO()

    with pytest.raises(CommandError):
        call_command("ledger_verify", stderr=err)

    number = books["partly"].number
    problems = services.ledger_verify(practice)
    assert any(p.startswith(f"Invoice {number} totals") for p in problems)
    assert f"Invoice {number}" in err.getvalue()
    assert books["paid"].number not in err.getvalue()


@pytest.mark.django_db
def test_a_changed_amount_paid_is_found(tenant, practice):
    books = some_books(tenant, practice)
    Invoice.objects.filter(pk=books["partly"].pk).update(amount_paid=F("amount_paid") + 5, balance=F("balance") - 5)

    problems = services.ledger_verify(practice)

    assert any(f"Invoice {books['partly'].number} amount paid" in p for p in problems)


@pytest.mark.django_db
def test_an_account_that_differs_from_the_ledger_is_found(tenant, practice):
    books = some_books(tenant, practice)
    client_id = books["partly"].client_id
    ClientAccount.objects.filter(client_id=client_id).update(credit_balance=F("credit_balance") + 1)

    problems = services.ledger_verify(practice)

    assert any(p.startswith(f"Client {client_id} balance") and "ledger" in p for p in problems)


@pytest.mark.django_db
def test_one_practice_is_checked_alone(tenant, other_tenant, practice):
    books = some_books(tenant, practice)
    twin_books = some_books(other_tenant, other_tenant.practice)
    tamper_totals(twin_books["partly"])

    call_command("ledger_verify", "--practice", practice.slug, stdout=StringIO())

    assert services.ledger_verify(practice) == []
    with pytest.raises(CommandError):
        call_command("ledger_verify", "--practice", other_tenant.practice.slug, stderr=StringIO())
    assert books["partly"].number == twin_books["partly"].number  # same numbers, separate books
    with pytest.raises(CommandError, match="No practice"):
        call_command("ledger_verify", "--practice", "nowhere")


@pytest.mark.django_db(transaction=True)
def test_the_command_exits_0_on_consistent_books_and_non_zero_naming_the_invoice(tenant, practice, capsys):
    books = some_books(tenant, practice)

    assert run_command() == 0
    assert "Ledger verified" in capsys.readouterr().out

    tamper_totals(books["partly"])

    assert run_command() != 0
    err = capsys.readouterr().err
    assert f"Invoice {books['partly'].number} totals" in err
    assert run_command("--practice", practice.slug) != 0
