"""The Invoices tab's bulk actions: issue drafts, mark as paid, void. One transaction per
invoice, refusals collected with their reason, one-time key, and sortable columns."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages

from billing.forms.home import BULK_NONE_CHOSEN, BULK_REASON_REQUIRED
from billing.models import Invoice, Payment
from billing.services import BULK_NOT_DRAFT, BULK_NOT_FOUND, invoice_create, payment_record_manual
from billing.submission import ALREADY_RECORDED, FIELD, PAGE_OUT_OF_DATE, submission_key_new
from tests.factories import ClientFactory, issued_invoice, make_item
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana(tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima")


def draft(tenant, client, price="100.00") -> Invoice:
    item = make_item(tenant.practice, client, price)
    return invoice_create(practice=tenant.practice, client=client, actor=tenant.biller, item_ids=[item.pk], issue=False)


def bulk(client, tenant, action, invoices, **extra):
    data = {"action": action, "invoice": [i.pk if isinstance(i, Invoice) else i for i in invoices], **extra}
    return client.post(url(tenant, "billing:invoices_bulk"), data)


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_mark_as_paid_pays_each_with_one_date_and_method(tenant, ana):
    # Given three open invoices
    invoices = [issued_invoice(tenant.practice, ana, tenant.biller, p) for p in ("100.00", "50.00", "25.50")]
    day = tenant.practice.local_today()
    # When the biller ticks them and marks them paid by bank transfer
    response = bulk(
        signed_in(tenant.biller),
        tenant,
        "mark_paid",
        invoices,
        method="bank_transfer",
        received_on=day.isoformat(),
        back="status=open",
    )
    # Then each is paid, by one payment each, and the summary names them
    assert response.status_code == 302 and response["Location"].endswith("/billing/invoices/?status=open")
    for invoice in invoices:
        invoice.refresh_from_db()
        assert invoice.status == Invoice.Status.PAID and invoice.balance == 0
    payments = Payment.objects.filter(practice=tenant.practice)
    assert sorted(p.amount for p in payments) == [Decimal("25.50"), Decimal("50.00"), Decimal("100.00")]
    assert {p.method for p in payments} == {"bank_transfer"} and {p.received_on for p in payments} == {day}
    assert said(response) == [f"Marked as paid: 3 invoice(s) ({', '.join(i.number for i in invoices)})."]


def test_refusals_are_collected_not_raised(tenant, ana, other_tenant):
    # Given an open invoice, a paid one, a draft, and another practice's invoice
    open_one = issued_invoice(tenant.practice, ana, tenant.biller)
    paid = issued_invoice(tenant.practice, ana, tenant.biller, "40.00")
    payment_record_manual(
        practice=tenant.practice,
        client=ana,
        actor=tenant.biller,
        amount=Decimal("40.00"),
        received_on=tenant.practice.local_today(),
        method="cash",
        allocations={paid.pk: Decimal("40.00")},
    )
    a_draft = draft(tenant, ana)
    theirs = issued_invoice(other_tenant.practice, ClientFactory(practice=other_tenant.practice), other_tenant.biller)
    # When all four are marked paid
    response = bulk(signed_in(tenant.biller), tenant, "mark_paid", [open_one, paid, a_draft, theirs], method="cash")
    messages = said(response)
    # Then the open one is paid and the others are listed with why
    open_one.refresh_from_db()
    theirs.refresh_from_db()
    assert open_one.status == Invoice.Status.PAID
    assert theirs.status == Invoice.Status.OPEN
    assert messages[0] == f"Marked as paid: 1 invoice(s) ({open_one.number})."
    assert any(m.startswith(f"Not marked as paid: {paid.number}.") for m in messages)
    assert any(m.startswith(f"Not marked as paid: Draft {a_draft.pk}.") for m in messages)
    assert f"Not marked as paid: #{theirs.pk}. {BULK_NOT_FOUND}" in messages
    assert Payment.objects.filter(practice=tenant.practice).count() == 2


def test_issue_drafts_numbers_them_and_refuses_the_rest(tenant, ana):
    drafts = [draft(tenant, ana), draft(tenant, ana)]
    already = issued_invoice(tenant.practice, ana, tenant.biller)
    response = bulk(signed_in(tenant.biller), tenant, "issue", [*drafts, already])
    for d in drafts:
        d.refresh_from_db()
        assert d.status == Invoice.Status.OPEN and d.number
    assert f"Not issued: {already.number}. {BULK_NOT_DRAFT}" in said(response)


def test_void_needs_one_reason_and_voids_each(tenant, ana):
    invoices = [issued_invoice(tenant.practice, ana, tenant.biller) for _ in range(2)]
    biller = signed_in(tenant.biller)
    refused = bulk(biller, tenant, "void", invoices, reason="  ")
    assert BULK_REASON_REQUIRED in said(refused)
    assert all(Invoice.objects.get(pk=i.pk).status == Invoice.Status.OPEN for i in invoices)
    bulk(biller, tenant, "void", invoices, reason="Entered twice")
    assert all(Invoice.objects.get(pk=i.pk).status == Invoice.Status.VOID for i in invoices)


def test_nothing_ticked_says_so(tenant, ana):
    response = bulk(signed_in(tenant.biller), tenant, "issue", [])
    assert said(response) == [BULK_NONE_CHOSEN]


def test_the_same_submission_twice_pays_once(tenant, ana):
    invoices = [issued_invoice(tenant.practice, ana, tenant.biller) for _ in range(3)]
    key = submission_key_new()
    biller = signed_in(tenant.biller)
    data = {"action": "mark_paid", "invoice": [i.pk for i in invoices], "method": "cash", FIELD: key}
    first = biller.post(url(tenant, "billing:invoices_bulk"), data)
    biller.get(first["Location"])  # the first answer's page shows (and uses up) its messages
    second = biller.post(url(tenant, "billing:invoices_bulk"), data)
    assert first.status_code == second.status_code == 302
    assert Payment.objects.filter(practice=tenant.practice).count() == 3
    assert said(second)[0] == ALREADY_RECORDED
    assert said(second)[1].startswith("Marked as paid: 3 invoice(s)")


def test_a_post_without_a_key_records_nothing(tenant, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.biller)
    from django.test import Client

    plain = Client()
    plain.force_login(tenant.biller)
    response = plain.post(url(tenant, "billing:invoices_bulk"), {"action": "mark_paid", "invoice": [invoice.pk]})
    assert said(response) == [PAGE_OUT_OF_DATE]
    assert not Payment.objects.filter(practice=tenant.practice).exists()


def test_clinicians_cannot_act_in_bulk(tenant, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.biller)
    response = bulk(signed_in(tenant.clinician), tenant, "mark_paid", [invoice], method="cash")
    assert response.status_code == 403
    assert not Payment.objects.exists()


def test_get_is_refused(tenant):
    assert signed_in(tenant.biller).get(url(tenant, "billing:invoices_bulk")).status_code == 405


def test_invoices_sort_by_balance_and_number(tenant, ana):
    small = issued_invoice(tenant.practice, ana, tenant.biller, "10.00")
    big = issued_invoice(tenant.practice, ana, tenant.biller, "900.00")
    mid = issued_invoice(tenant.practice, ana, tenant.biller, "50.00")
    biller = signed_in(tenant.biller)

    def order(sort):
        return [i.pk for i in biller.get(url(tenant, "billing:invoices"), {"sort": sort}).context["page"]]

    assert order("-balance") == [big.pk, mid.pk, small.pk]
    assert order("balance") == [small.pk, mid.pk, big.pk]
    assert order("number") == [small.pk, big.pk, mid.pk]
    assert order("nonsense") == [mid.pk, big.pk, small.pk]  # the default: newest first
    html = biller.get(url(tenant, "billing:invoices"), {"sort": "-balance", "status": "open"}).content.decode()
    assert 'aria-sort="descending"' in html and "??" not in html


def test_a_repeat_while_the_first_is_running_waits_then_says_so(tenant, ana, monkeypatch):
    from billing.models import SubmissionKey
    from billing.views import home

    # Given a first submission that has claimed its key but not finished
    invoice = issued_invoice(tenant.practice, ana, tenant.biller)
    key = submission_key_new()
    SubmissionKey.objects.create(practice=tenant.practice, key=key, action="invoice.bulk_mark_paid")
    monkeypatch.setattr(home, "BULK_WAIT_SECONDS", 0.3)
    biller = signed_in(tenant.biller)
    # When the second click arrives
    data = {"action": "mark_paid", "invoice": [invoice.pk], "method": "cash", FIELD: key}
    response = biller.post(url(tenant, "billing:invoices_bulk"), data)
    # Then nothing is paid by it, and the biller is told the first is still going
    assert said(response) == [ALREADY_RECORDED, home.BULK_STILL_RUNNING]
    assert not Payment.objects.exists()
