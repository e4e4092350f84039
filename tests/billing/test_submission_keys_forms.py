"""Every money form records once (issue 9, part 1): for each form, 10 identical POSTs sent
at once (same one-time key, real threads, real requests through the test client, on
PostgreSQL) make exactly one record, every answer is the first's redirect, and the books
verify; a plain second click is answered the same way; a fresh key records again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from unittest import mock

import pytest

from billing import services
from billing.models import Invoice, InvoiceLine, LedgerEntry, Package, PackagePurchase, Payment
from billing.submission import ALREADY_RECORDED, FIELD, submission_key_new
from billing.views import home as views_home
from billing.views.home import INVOICES_CREATED
from billing.views.invoices import CREDIT_ISSUED, DRAFT_CREATED, INVOICE_ISSUED
from billing.views.packages import PACKAGE_SOLD
from tests.billing.helpers import post_at_once, texts
from tests.factories import ClientFactory, give_credit, issued_invoice, make_item, paid_package
from tests.helpers import signed_in, url

D = Decimal


@dataclass
class Case:
    path: str
    data: dict
    count: Callable[[], int]  # the records the form makes: exactly one after any number of repeats
    first_status: int = 302


def ledger(kind: str, client) -> Callable[[], int]:
    return lambda: LedgerEntry.objects.filter(client=client, kind=kind).count()


def lines_free(count: int = 1, description: str = "Letter to GP", price: str = "25.00") -> dict:
    data = {"line-TOTAL_FORMS": str(count), "line-INITIAL_FORMS": "0"}
    data.update(
        {"line-0-description": description, "line-0-units": "1", "line-0-unit_price": price, "line-0-tax_percent": "0"}
    )
    return data


def today(tenant) -> str:
    return tenant.practice.local_today().isoformat()


def service_package(tenant) -> Package:
    from tests.factories import ServiceFactory

    service = ServiceFactory(practice=tenant.practice, name="Counselling", price=D("150.00"))
    return Package.objects.create(
        practice=tenant.practice, name="5 sessions", service=service, sessions=5, price=D("600.00")
    )


# One builder per money form: the rows it needs, and the POST a biller's page sends.


def client_create_invoice(tenant, ana) -> Case:
    items = [make_item(tenant.practice, ana, price="100.00"), make_item(tenant.practice, ana, price="50.00")]
    return Case(
        url(tenant, "billing:client_create_invoice", client_id=ana.pk),
        {"item": [i.pk for i in items], "action": "issue"},
        lambda: Invoice.objects.filter(client=ana).count(),
    )


def invoice_new(tenant, ana) -> Case:
    # Only a free line: nothing in the data itself (an item) stops a second invoice.
    return Case(
        url(tenant, "billing:invoice_new"),
        {"client": ana.pk, "action": "issue", **lines_free()},
        lambda: Invoice.objects.filter(client=ana).count(),
    )


def credit_new(tenant, ana) -> Case:
    return Case(
        url(tenant, "billing:credit_new", client_id=ana.pk),
        {"reason": "Goodwill", **lines_free(description="Goodwill credit", price="30.00")},
        lambda: Invoice.objects.filter(client=ana, kind=Invoice.Kind.CREDIT).count(),
    )


def package_sell(tenant, ana) -> Case:
    package = service_package(tenant)
    return Case(
        url(tenant, "billing:package_sell", client_id=ana.pk),
        {"package": package.pk, "issue": "1"},
        lambda: PackagePurchase.objects.filter(client=ana).count(),
    )


def package_refund(tenant, ana) -> Case:
    purchase = paid_package(tenant.practice, ana, tenant.biller, service_package(tenant))
    return Case(
        url(tenant, "billing:package_refund", purchase_id=purchase.pk),
        {"sessions": "2", "reason": "Moving away"},
        lambda: Invoice.objects.filter(client=ana, kind=Invoice.Kind.CREDIT).count(),
    )


def payment_new(tenant, ana) -> Case:
    issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    return Case(
        f"{url(tenant, 'billing:payment_new')}?client={ana.pk}",
        {"amount": "40.00", "received_on": today(tenant), "method": "cash", "reference": ""},
        lambda: Payment.objects.filter(client=ana).count(),
    )


def mark_paid(tenant, ana) -> Case:
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    return Case(
        url(tenant, "billing:invoice_mark_paid", invoice_id=invoice.pk),
        {"method": "cash", "received_on": today(tenant)},
        lambda: Payment.objects.filter(client=ana).count(),
    )


def apply_credit(tenant, ana) -> Case:
    give_credit(tenant.practice, ana, tenant.owner, "30.00")
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    return Case(
        url(tenant, "billing:invoice_apply_credit", invoice_id=invoice.pk),
        {},
        ledger(LedgerEntry.Kind.CREDIT_APPLIED, ana),
    )


def void(tenant, ana) -> Case:
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    return Case(
        url(tenant, "billing:invoice_void", invoice_id=invoice.pk),
        {"reason": "Entered twice"},
        ledger(LedgerEntry.Kind.INVOICE_VOIDED, ana),
    )


def issue_draft(tenant, ana) -> Case:
    draft = services.invoice_create(
        practice=tenant.practice, client=ana, actor=tenant.biller, item_ids=[make_item(tenant.practice, ana).pk]
    )
    return Case(
        url(tenant, "billing:invoice_issue", invoice_id=draft.pk),
        {},
        ledger(LedgerEntry.Kind.INVOICE_ISSUED, ana),
    )


def delete_draft(tenant, ana) -> Case:
    draft = services.invoice_create(
        practice=tenant.practice, client=ana, actor=tenant.biller, item_ids=[make_item(tenant.practice, ana).pk]
    )
    return Case(
        url(tenant, "billing:invoice_delete", invoice_id=draft.pk),
        {},
        # One deletion: the draft is gone and no answer was an error.
        lambda: 1 - Invoice.objects.filter(client=ana).count(),
    )


def edit_invoice(tenant, ana) -> Case:
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    line = invoice.lines.get()
    return Case(
        url(tenant, "billing:invoice_edit", invoice_id=invoice.pk),
        {
            f"units_{line.pk}": "1",
            f"price_{line.pk}": "100",
            f"tax_{line.pk}": "0",
            **lines_free(description="Report"),
        },
        lambda: InvoiceLine.objects.filter(invoice=invoice, description="Report").count(),
    )


def delete_payment(tenant, ana) -> Case:
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    payment = services.invoice_mark_paid(invoice=invoice, actor=tenant.owner, method="cash").payment
    return Case(
        url(tenant, "billing:payment_delete", payment_id=payment.pk),
        {"reason": "Cheque bounced"},
        ledger(LedgerEntry.Kind.PAYMENT_REVERSED, ana),
    )


def invoice_all(tenant, ana) -> Case:
    bea = ClientFactory(practice=tenant.practice, first_name="Bea")
    for client in (ana, bea):
        make_item(tenant.practice, client, "100.00", on=date(2025, 1, 6))
    return Case(
        url(tenant, "billing:invoice_all"),
        {"date_from": "2025-01-01", "date_to": "2025-01-31", "mode": "issue"},
        # Two clients: one invoice each, once.
        lambda: Invoice.objects.filter(practice=tenant.practice).count() - 1,
        first_status=200,  # the summary page; repeats go to the Invoices tab
    )


def calendar_create_invoice(tenant, ana) -> Case:
    from appointments.services import appointment_mark_completed
    from tests.factories import ServiceFactory, make_appointment

    service = ServiceFactory(practice=tenant.practice, price=D("90.00"))
    appointment = make_appointment(tenant.practice, tenant.owner, tenant.clinician, [ana], [service])
    appointment_mark_completed(appointment=appointment, actor=tenant.owner)
    return Case(
        url(tenant, "billing:appointment_create_invoice", appointment_id=appointment.pk),
        {"action": "issue"},
        lambda: Invoice.objects.filter(client=ana).count(),
    )


FORMS = [
    client_create_invoice,
    invoice_new,
    credit_new,
    package_sell,
    package_refund,
    payment_new,
    mark_paid,
    apply_credit,
    void,
    issue_draft,
    delete_draft,
    edit_invoice,
    delete_payment,
    invoice_all,
    calendar_create_invoice,
]


@pytest.fixture
def ana(tenant, other_tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Smith", clinicians=[tenant.clinician])


def owner_of(tenant):
    # Deleting a payment is for owners and admins; every other form for billers too.
    return signed_in(tenant.owner)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("build", FORMS, ids=lambda f: f.__name__)
def test_ten_identical_posts_at_once_record_once(tenant, ana, build):
    case = build(tenant, ana)
    data = {**case.data, FIELD: submission_key_new()}

    responses = post_at_once(owner_of(tenant), case.path, data)

    first = [r for r in responses if ALREADY_RECORDED not in texts(r)]
    assert len(first) == 1 and first[0].status_code == case.first_status
    repeats = [r for r in responses if r is not first[0]]
    assert {r.status_code for r in repeats} == {302}
    assert len({r["Location"] for r in repeats}) == 1
    if case.first_status == 302:
        assert repeats[0]["Location"] == first[0]["Location"]
    assert case.count() == 1
    assert services.ledger_verify(tenant.practice) == []


@pytest.mark.django_db
@pytest.mark.parametrize("build", FORMS, ids=lambda f: f.__name__)
def test_a_second_click_answers_with_the_first_result(tenant, ana, build):
    case = build(tenant, ana)
    data = {**case.data, FIELD: submission_key_new()}
    browser = owner_of(tenant)

    first = browser.post(case.path, data)
    second = browser.post(case.path, data, follow=True)

    assert first.status_code == case.first_status
    assert ALREADY_RECORDED not in texts(first)
    if case.first_status == 302:
        assert second.redirect_chain[0][0] == first["Location"]
    assert second.status_code == 200
    assert ALREADY_RECORDED in second.content.decode()
    assert case.count() == 1
    assert services.ledger_verify(tenant.practice) == []


@pytest.mark.django_db
def test_the_repeat_shows_the_first_answers_message(tenant, ana):
    case = client_create_invoice(tenant, ana)
    data = {**case.data, "action": "draft", FIELD: submission_key_new()}
    browser = owner_of(tenant)

    browser.post(case.path, data, follow=True)
    second = browser.post(case.path, data, follow=True)

    assert texts(second) == [ALREADY_RECORDED, DRAFT_CREATED]
    assert Invoice.objects.filter(client=ana).count() == 1


# A fresh key (the form loaded again) records again: the key, not the content, dedups.


@pytest.mark.django_db
@pytest.mark.parametrize(
    "build, message",
    [
        (invoice_new, INVOICE_ISSUED.split(" ")[0]),
        (credit_new, CREDIT_ISSUED.split(" ")[0]),
        (package_sell, PACKAGE_SOLD.split(" ")[0]),
        (payment_new, "Payment of"),
    ],
    ids=["invoice_new", "credit_new", "package_sell", "payment_new"],
)
def test_a_fresh_key_records_a_second_time(tenant, ana, build, message):
    case = build(tenant, ana)
    browser = owner_of(tenant)

    for _ in range(2):
        response = browser.post(case.path, {**case.data, FIELD: submission_key_new()}, follow=True)
        assert ALREADY_RECORDED not in response.content.decode()
        assert message in response.content.decode()

    assert case.count() == 2
    assert services.ledger_verify(tenant.practice) == []


# Invoice all above the inline limit: the repeat enqueues nothing.


@pytest.mark.django_db(transaction=True)
def test_ten_invoice_all_posts_at_once_enqueue_one_background_run(tenant, ana):
    case = invoice_all(tenant, ana)
    data = {**case.data, FIELD: submission_key_new()}
    with (
        mock.patch.object(views_home, "INVOICE_ALL_INLINE_LIMIT", 1),
        mock.patch.object(views_home, "invoice_all_uninvoiced_task") as task,
    ):
        responses = post_at_once(owner_of(tenant), case.path, data)

    assert task.delay.call_count == 1
    assert sum(r.status_code == 200 for r in responses) == 1
    repeats = [r for r in responses if r.status_code == 302]
    assert len(repeats) == 9 and all(ALREADY_RECORDED in texts(r) for r in repeats)
    assert {r["Location"] for r in repeats} == {url(tenant, "billing:invoices")}
    assert not Invoice.objects.filter(practice=tenant.practice).exists()


@pytest.mark.django_db
def test_invoice_all_repeat_goes_to_the_invoices_tab_with_the_summary(tenant, ana):
    case = invoice_all(tenant, ana)
    data = {**case.data, FIELD: submission_key_new()}
    browser = owner_of(tenant)

    browser.post(case.path, data)
    again = browser.post(case.path, data, follow=True)

    assert again.redirect_chain == [(url(tenant, "billing:invoices"), 302)]
    page = again.content.decode()
    assert ALREADY_RECORDED in page and INVOICES_CREATED.format(count=2, clients=2) in page
    assert Invoice.objects.filter(practice=tenant.practice).count() == 2


# Each money form, as the page shows it, carries its key: without one the POST is refused.


def keyed_forms(html: str) -> int:
    return html.count(f'type="hidden" name="{FIELD}" value="')


@pytest.mark.django_db
def test_every_money_form_on_every_page_carries_a_key(tenant, ana):
    from appointments.services import appointment_mark_completed
    from tests.factories import ServiceFactory, make_appointment

    owner = owner_of(tenant)
    make_item(tenant.practice, ana)
    give_credit(tenant.practice, ana, tenant.owner, "30.00")
    open_invoice = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    a_draft = services.invoice_create(
        practice=tenant.practice, client=ana, actor=tenant.owner, lines=[services.LineInput("Letter", D("10"))]
    )
    paid = issued_invoice(tenant.practice, ana, tenant.owner, "40.00")
    payment = services.invoice_mark_paid(invoice=paid, actor=tenant.owner, method="cash").payment
    purchase = paid_package(tenant.practice, ana, tenant.biller, service_package(tenant))
    appointment = make_appointment(
        tenant.practice, tenant.owner, tenant.clinician, [ana], [ServiceFactory(practice=tenant.practice)]
    )
    appointment_mark_completed(appointment=appointment, actor=tenant.owner)

    pages = {
        url(tenant, "clients:billing", client_id=ana.pk): 1,  # Create invoice from items
        url(tenant, "billing:invoice_new"): 1,
        url(tenant, "billing:credit_new", client_id=ana.pk): 1,
        url(tenant, "billing:package_sell", client_id=ana.pk): 1,
        url(tenant, "billing:package_refund", purchase_id=purchase.pk): 1,
        f"{url(tenant, 'billing:payment_new')}?invoice={open_invoice.pk}": 1,
        open_invoice.get_absolute_url(): 5,  # Apply credit, Mark as paid, Send reminder, Write off, Void
        a_draft.get_absolute_url(): 2,  # Issue, Delete draft
        url(tenant, "billing:invoice_edit", invoice_id=open_invoice.pk): 1,
        url(tenant, "billing:payment", payment_id=payment.pk): 1,  # Delete payment
        url(tenant, "billing:payment_refund", payment_id=payment.pk): 1,  # Record refund
        f"{url(tenant, 'billing:invoice_all')}?date_from=2000-01-01&date_to=2099-12-31": 1,
        url(tenant, "appointments:detail", appointment_id=appointment.pk): 1,  # Create invoice
    }
    for path, forms in pages.items():
        response = owner.get(path)
        assert response.status_code == 200, path
        assert keyed_forms(response.content.decode()) == forms, path
