"""Client statements: what a client reads in one (opening balance, every movement with its
amount and the running balance, closing balance) is read back from the PDF; the balances
agree with the ledger to the cent for any history and any period; the page is not blank;
bad periods are refused with a message; Send statement queues exactly one email with the
PDF attached; another practice's client is a 404."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from billing import services
from billing.documents.statement import (
    PERIOD_BACKWARDS,
    PERIOD_IN_FUTURE,
    PERIOD_TOO_LONG,
    client_statement,
    default_period,
)
from billing.models import Invoice, LedgerEntry
from clients.models import Client
from practice.models import AuditLog, OutgoingEmail, OutgoingEmailAttachment
from practice.money import practice_money
from practice.selectors import invoice_template_for
from tests.billing.test_documents_pdf import first_page_png, inked_share, pdf_text
from tests.factories import ClientFactory, PayerFactory, give_credit, issued_invoice, pay
from tests.helpers import signed_in, url

D = Decimal
ZERO = D("0")

pytestmark = pytest.mark.django_db


def at(day: int, hour: int = 15) -> time_machine.travel:
    """March ``day`` 2026 at ``hour`` UTC (the practice is in New York: 15:00 UTC is 10 or
    11 in the morning there; 03:00 UTC is the evening of the day before)."""
    return time_machine.travel(datetime(2026, 3, 1, tzinfo=UTC) + timedelta(days=day - 1, hours=hour), tick=False)


@pytest.fixture
def ana(tenant):
    return ClientFactory(
        practice=tenant.practice,
        first_name="Ana",
        last_name="Lima",
        email="ana@mail.test",
        clinicians=[tenant.clinician],
    )


@pytest.fixture
def march(tenant, ana):
    """Ana's March: invoice 200 (2nd), paid 150 (5th), invoice 80 (10th), a credit
    invoice of 30 (12th), the 80 written off (15th), 70 paid with 20 over kept as credit
    (18th). Then it is the 25th."""
    practice, biller = tenant.practice, tenant.biller
    with at(2):
        first = issued_invoice(practice, ana, biller, "200.00")
    with at(5):
        pay(practice, ana, biller, "150.00")
    with at(10):
        second = issued_invoice(practice, ana, biller, "80.00")
    with at(12):
        give_credit(practice, ana, biller, "30.00")
    with at(15):
        services.invoice_write_off(invoice=second, actor=biller, reason="Hardship")
    with at(18):
        pay(practice, ana, biller, "70.00", to_credit=True)
    with at(25):
        yield first, second


def statement_pdf(browser, tenant, client, start: str, end: str):
    return browser.get(url(tenant, "billing:client_statement", client_id=client.pk), {"start": start, "end": end})


def test_statement_pdf_reads_back_opening_rows_and_closing(tenant, ana, march):
    first, second = march

    response = statement_pdf(signed_in(tenant.biller), tenant, ana, "2026-03-05", "2026-03-15")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="statement-lima-ana-2026-03-05-2026-03-15.pdf"'
    text = pdf_text(response.content)
    assert "Statement" in text and "Ana Lima" in text and "5 Mar 2026 to 15 Mar 2026" in text
    # Opening: invoice 200 issued before the period.
    assert "Opening balance $200.00" in text
    # Each movement with its amount and the running balance.
    assert "Payment · Cash $150.00 $50.00" in text
    assert f"Invoice issued · {second.number} $80.00 $130.00" in text
    assert "$130.00 $30.00 (+$30.00)" in text  # the credit invoice: credit on account, not the balance
    assert f"Write-off · {second.number} ·\nHardship\n$80.00 $50.00 $30.00" in text
    # Closing: the row of totals (charges 80, payments and credits 230) and the summary.
    assert "Closing balance $80.00 $230.00 $50.00 $30.00" in text
    assert "Closing balance $50.00" in text
    # Nothing outside the period.
    assert first.number not in text
    assert "$70.00" not in text


def test_a_period_with_no_movement_carries_the_balance_through(tenant, ana, march):
    text = pdf_text(statement_pdf(signed_in(tenant.biller), tenant, ana, "2026-03-19", "2026-03-24").content)

    assert "No movements in this period." in text
    assert "Opening balance $0.00 $50.00" in text
    assert "Closing balance $0.00" in text


def test_the_statement_page_is_not_blank(tenant, ana, march, tmp_path):
    data = statement_pdf(signed_in(tenant.biller), tenant, ana, "2026-03-01", "2026-03-25").content

    assert len(PdfReader(io.BytesIO(data)).pages) == 1
    page = first_page_png(data, tmp_path)
    assert page.size[0] > 300 and page.size[1] > 400
    assert 0.005 < inked_share(page) < 0.5


# --- the statement agrees with the ledger ------------------------------------------------


class _RollBack(Exception):
    pass


@contextmanager
def rolled_back() -> Iterator[None]:
    try:
        with transaction.atomic():
            yield
            raise _RollBack
    except _RollBack:
        pass


def ledger_at(client: Client, before: date) -> tuple[Decimal, Decimal]:
    """The client's balance and credit from the ledger entries of the practice's local days
    before ``before``, summed here in Python (not in the selector's SQL)."""
    tz = client.practice.tzinfo
    balance = credit = ZERO
    for entry in LedgerEntry.objects.filter(client=client):
        if entry.created_at.astimezone(tz).date() < before:
            balance += entry.balance_delta
            credit += entry.credit_delta
    return balance, credit


step = st.tuples(
    st.sampled_from(["invoice", "pay", "overpay", "credit", "write_off"]),
    st.integers(min_value=1, max_value=27),  # day of March
    st.sampled_from([3, 4, 5, 15, 23]),  # hour UTC: 03-05 fall on the evening before in New York
    st.decimals(min_value=D("0.01"), max_value=D("400"), places=2),
)
PROPERTY = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@PROPERTY
@given(
    steps=st.lists(step, min_size=1, max_size=8),
    windows=st.lists(st.tuples(st.integers(1, 28), st.integers(0, 27)), min_size=1, max_size=3),
)
def test_opening_and_closing_agree_with_the_ledger_for_any_history(tenant, steps, windows):
    practice, biller = tenant.practice, tenant.biller
    look = invoice_template_for(practice)
    with rolled_back():
        client = ClientFactory(practice=practice)
        for kind, day, hour, amount in sorted(steps, key=lambda s: (s[1], s[2])):
            with at(day, hour):
                owed = client.account.balance if hasattr(client, "account") else ZERO
                if kind == "invoice":
                    issued_invoice(practice, client, biller, str(amount))
                elif kind == "pay" and owed > 0:
                    pay(practice, client, biller, str(min(amount, owed)))
                elif kind == "overpay":
                    pay(practice, client, biller, str(amount), to_credit=True)
                elif kind == "credit":
                    give_credit(practice, client, biller, str(amount))
                elif kind == "write_off":
                    oldest = Invoice.objects.filter(client=client, status="open", kind="invoice").first()
                    if oldest is not None:
                        services.invoice_write_off(invoice=oldest, actor=biller, reason="Hardship")
                client = Client.objects.select_related("account").get(pk=client.pk)
        with at(28, 20):
            for first_day, length in windows:
                start = date(2026, 3, first_day)
                end = min(start + timedelta(days=length), date(2026, 3, 28))
                statement = client_statement(practice, client, start, end, look)
                history = statement.history

                assert (history.opening_balance, history.opening_credit) == ledger_at(client, start)
                assert (history.closing_balance, history.closing_credit) == ledger_at(client, end + timedelta(days=1))
                # The rows carry the balance from the one to the other, and the printed
                # figures are those sums in the practice's currency.
                moved = sum((r.debit - r.credit for r in history.rows), ZERO)
                assert history.opening_balance + moved == history.closing_balance
                assert statement.closing_balance == practice_money(practice, history.closing_balance)
                assert statement.opening_balance == practice_money(practice, history.opening_balance)
        # Today's closing is the account's balance.
        with at(28, 20):
            whole = client_statement(practice, client, date(2026, 3, 1), date(2026, 3, 28), look).history
            account = Client.objects.select_related("account").get(pk=client.pk)
            if hasattr(account, "account"):
                assert (whole.closing_balance, whole.closing_credit) == (
                    account.account.balance,
                    account.account.credit_balance,
                )


# --- the period ----------------------------------------------------------------------------


def test_the_download_form_offers_the_first_of_last_month_to_today(tenant, ana):
    with at(25):
        response = signed_in(tenant.biller).get(url(tenant, "billing:client_statement", client_id=ana.pk))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="2026-02-01"' in html and 'value="2026-03-25"' in html
    assert default_period(date(2026, 1, 10)) == (date(2025, 12, 1), date(2026, 1, 10))


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-03-20", "2026-03-10", PERIOD_BACKWARDS),
        ("2024-03-01", "2026-03-10", PERIOD_TOO_LONG),
        ("2026-03-01", "2026-04-30", PERIOD_IN_FUTURE),
    ],
)
@pytest.mark.parametrize("name", ["billing:client_statement", "billing:client_superbill"])
def test_a_bad_period_is_refused_with_the_reason(tenant, ana, start, end, message, name):
    with at(25):
        response = signed_in(tenant.biller).get(url(tenant, name, client_id=ana.pk), {"start": start, "end": end})

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert message in response.content.decode()


def test_a_two_year_period_is_accepted(tenant, ana):
    with at(25):
        response = statement_pdf(signed_in(tenant.biller), tenant, ana, "2024-03-26", "2026-03-25")

    assert response.status_code == 200


# --- access ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["billing:client_statement", "billing:client_superbill", "billing:client_statement_send"]
)
def test_another_practices_client_is_not_found(tenant, other_tenant, name):
    theirs = ClientFactory(practice=other_tenant.practice, first_name="Ana", last_name="Lima")

    response = signed_in(tenant.biller).get(url(tenant, name, client_id=theirs.pk))

    assert response.status_code == 404


def test_a_clinician_downloads_only_their_own_clients_documents(tenant, ana):
    stranger = ClientFactory(practice=tenant.practice)
    clinician = signed_in(tenant.clinician)
    with at(25):
        own = statement_pdf(clinician, tenant, ana, "2026-03-01", "2026-03-25")
        other = statement_pdf(clinician, tenant, stranger, "2026-03-01", "2026-03-25")
        send = clinician.get(url(tenant, "billing:client_statement_send", client_id=ana.pk))

    assert own.status_code == 200
    assert other.status_code == 404
    assert send.status_code == 403  # sending is for the roles that bill


# --- Send statement ------------------------------------------------------------------------


def send(browser, tenant, client, key: uuid.UUID | None = None, **data):
    body = {"start": "2026-03-05", "end": "2026-03-15", "to": client.email, "send_key": str(key or uuid.uuid4())}
    body.update(data)
    return browser.post(url(tenant, "billing:client_statement_send", client_id=client.pk), body)


def test_send_statement_writes_one_email_with_the_pdf_attached(tenant, ana, march, django_capture_on_commit_callbacks):
    biller = signed_in(tenant.biller)
    key = uuid.uuid4()
    form = biller.get(url(tenant, "billing:client_statement_send", client_id=ana.pk)).content.decode()
    assert "ana@mail.test" in form

    with django_capture_on_commit_callbacks(execute=True):
        first = send(biller, tenant, ana, key)
        again = send(biller, tenant, ana, key)  # a double click: the same form twice

    assert first.status_code == 302 and again.status_code == 302
    email = OutgoingEmail.objects.get()
    assert email.to == "ana@mail.test" and email.status == "sent"
    assert "Balance at the end of the period: $50.00" in email.text
    attachment = OutgoingEmailAttachment.objects.get(email=email)
    assert attachment.filename == "statement-lima-ana-2026-03-05-2026-03-15.pdf"
    assert attachment.content_type == "application/pdf"
    assert "Closing balance $50.00" in pdf_text(bytes(attachment.content))
    assert len(mail.outbox) == 1
    (name, content, kind) = mail.outbox[0].attachments[0]
    assert name == attachment.filename and kind == "application/pdf" and content[:5] == b"%PDF-"
    assert AuditLog.objects.filter(action="client.statement_sent").count() == 1


def test_the_payer_can_be_chosen_but_not_a_stranger(tenant, ana, django_capture_on_commit_callbacks):
    payer = PayerFactory(practice=tenant.practice, email="mum@mail.test")
    Client.objects.filter(pk=ana.pk).update(payer=payer)
    ana.refresh_from_db()
    biller = signed_in(tenant.biller)

    with at(25):
        refused = send(biller, tenant, ana, to="someone@else.test")
        assert OutgoingEmail.objects.count() == 0
        with django_capture_on_commit_callbacks(execute=True):
            sent = send(biller, tenant, ana, to="mum@mail.test")

    assert refused.status_code == 400
    assert "Select a valid choice" in refused.content.decode()
    assert sent.status_code == 302
    assert list(OutgoingEmail.objects.values_list("to", flat=True)) == ["mum@mail.test"]


def test_bad_period_sends_nothing(tenant, ana):
    with at(25):
        response = send(signed_in(tenant.biller), tenant, ana, start="2026-03-20", end="2026-03-10")

    assert response.status_code == 400
    assert PERIOD_BACKWARDS in response.content.decode()
    assert OutgoingEmail.objects.count() == 0
    assert not AuditLog.objects.filter(action="client.statement_sent").exists()


def test_send_is_disabled_with_the_reason_when_nobody_has_an_email(tenant):
    silent = ClientFactory(practice=tenant.practice, email="")
    biller = signed_in(tenant.biller)

    header = biller.get(url(tenant, "clients:detail", client_id=silent.pk)).content.decode()
    with at(25):
        posted = send(biller, tenant, silent, to="")

    assert "Send statement</button>" in header and services.STATEMENT_NO_EMAIL in header
    assert f'href="{url(tenant, "billing:client_statement", client_id=silent.pk)}">Download statement<' in header
    assert posted.status_code == 400
    assert services.STATEMENT_NO_EMAIL in posted.content.decode()
    assert OutgoingEmail.objects.count() == 0
