"""Invoice pages as a biller uses them: the client Billing tab's Uninvoiced amounts panel,
+ New invoice, the invoice page and its actions (issue, edit, delete, void, apply credit,
mark as paid), credit invoices, the calendar's Create invoice, bad input and access."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from billing import services
from billing.forms.invoices import PRICE_NEGATIVE
from billing.models import Invoice, LedgerEntry, Payment
from billing.views.appointments import NOTHING_ON_APPOINTMENT
from practice.models import AuditLog
from tests.billing.helpers import account
from tests.factories import ClientFactory, give_credit, issued_invoice, make_item, online_payment
from tests.helpers import signed_in, url

D = Decimal


@pytest.fixture
def ana(tenant, other_tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Smith", clinicians=[tenant.clinician])


# --- the client Billing tab ---------------------------------------------------------------


@pytest.mark.django_db
def test_billing_tab_shows_uninvoiced_items_figures_and_apply_credit_only_with_credit(tenant, biller, ana):
    make_item(tenant.practice, ana, price="120.00", description="Individual therapy")
    make_item(tenant.practice, ana, price="45.50", description="Report writing")

    html = biller.get(url(tenant, "clients:billing", client_id=ana.pk)).content.decode()
    assert "Uninvoiced amounts" in html and "Report writing" in html and "$165.50" in html
    assert "Create and issue" in html and "Create invoice &amp; add payment" in html
    assert "Apply credit balance" not in html

    give_credit(tenant.practice, ana, tenant.owner, "30.00")
    html = biller.get(url(tenant, "clients:billing", client_id=ana.pk)).content.decode()
    assert "Apply credit balance" in html
    assert 'data-testid="client-credit">$30.00<' in html


@pytest.mark.django_db
def test_create_invoice_makes_a_draft_of_the_ticked_items_only(tenant, biller, ana):
    a = make_item(tenant.practice, ana, price="100.00")
    b = make_item(tenant.practice, ana, price="50.00", description="Report writing")
    left = make_item(tenant.practice, ana, price="70.00", description="Not this one")

    response = biller.post(
        url(tenant, "billing:client_create_invoice", client_id=ana.pk),
        {"item": [a.pk, b.pk], "action": "draft"},
    )

    invoice = Invoice.objects.get(client=ana)
    assert response.status_code == 302 and response["Location"] == invoice.get_absolute_url()
    assert invoice.status == "draft" and invoice.number is None and invoice.total == D("150.00")
    left.refresh_from_db()
    assert left.invoice_id is None
    page = biller.get(invoice.get_absolute_url()).content.decode()
    assert 'data-testid="invoice-status">Draft<' in page and "Issue" in page and "Delete draft" in page


@pytest.mark.django_db
def test_create_and_issue_with_adjusted_price_and_credit_applied(tenant, biller, ana):
    give_credit(tenant.practice, ana, tenant.owner, "30.00")
    a = make_item(tenant.practice, ana, price="100.00", tax="10")
    b = make_item(tenant.practice, ana, price="50.00")

    response = biller.post(
        url(tenant, "billing:client_create_invoice", client_id=ana.pk),
        {
            "item": [a.pk, b.pk],
            "action": "issue",
            "apply_credit": "1",
            f"units_{a.pk}": "2",
            f"price_{a.pk}": "90",
            f"tax_{a.pk}": "10",
            f"units_{b.pk}": "1",
            f"price_{b.pk}": "50.00",
            f"tax_{b.pk}": "0",
        },
    )

    invoice = Invoice.objects.get(client=ana, kind="invoice")
    assert response.status_code == 302
    # 2 x 90 + 10% tax = 198, plus 50 = 248; 30 of credit applied.
    assert (invoice.subtotal, invoice.tax, invoice.total) == (D("230.00"), D("18.00"), D("248.00"))
    assert invoice.credit_applied == D("30.00") and invoice.balance == D("218.00")
    assert invoice.status == "open" and invoice.number == "INV-000002"  # the credit invoice took 1
    assert account(ana).credit_balance == 0 and account(ana).balance == D("218.00")
    page = biller.get(invoice.get_absolute_url()).content.decode()
    assert 'data-testid="invoice-status">Partially paid<' in page
    assert 'data-testid="invoice-balance"><strong>$218.00<' in page


@pytest.mark.django_db
def test_create_invoice_and_add_payment_goes_to_the_payment_form(tenant, biller, ana):
    a = make_item(tenant.practice, ana, price="80.00")

    response = biller.post(
        url(tenant, "billing:client_create_invoice", client_id=ana.pk), {"item": [a.pk], "action": "pay"}
    )

    invoice = Invoice.objects.get(client=ana)
    assert invoice.status == "open"
    assert response["Location"] == f"{url(tenant, 'billing:payment_new')}?invoice={invoice.pk}"
    form = biller.get(response["Location"])
    assert form.status_code == 200
    assert form.context["form"].initial["amount"] == "80"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("price", "-5", PRICE_NEGATIVE), ("price", "12,,x", "Enter an amount such as 120.00."), ("units", "0", None)],
)
def test_bad_amounts_are_field_errors_and_nothing_is_saved(tenant, biller, ana, field, value, message):
    a = make_item(tenant.practice, ana, price="100.00")

    response = biller.post(
        url(tenant, "billing:client_create_invoice", client_id=ana.pk),
        {"item": [a.pk], "action": "issue", f"{field}_{a.pk}": value},
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "Correct the amounts marked below." in html
    if message:
        assert message in html
    assert f'value="{value}"' in html  # what was typed is shown again
    assert not Invoice.objects.exists()
    a.refresh_from_db()
    assert a.invoice_id is None and a.unit_price == D("100.000")


@pytest.mark.django_db
def test_nothing_ticked_is_a_message(tenant, biller, ana):
    make_item(tenant.practice, ana)
    response = biller.post(url(tenant, "billing:client_create_invoice", client_id=ana.pk), {"action": "draft"})
    assert response.status_code == 400
    assert services.NOTHING_TO_INVOICE in response.content.decode()
    assert not Invoice.objects.exists()


@pytest.mark.django_db
def test_items_invoiced_a_moment_ago_by_someone_else_give_a_message_not_a_second_invoice(tenant, biller, ana):
    a = make_item(tenant.practice, ana)
    # Another biller invoices the item between this biller's page load and their click.
    services.invoice_create(practice=tenant.practice, client=ana, actor=tenant.admin, item_ids=[a.pk])

    response = biller.post(
        url(tenant, "billing:client_create_invoice", client_id=ana.pk),
        {"item": [a.pk], "action": "issue"},
        follow=True,
    )

    assert Invoice.objects.filter(client=ana).count() == 1
    # The item is no longer offered, so it is not ticked: "choose at least one".
    assert services.NOTHING_TO_INVOICE in response.content.decode() or services.ITEMS_TAKEN in response.content.decode()


# --- + New invoice -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_new_invoice_picks_the_clients_items_and_adds_a_free_line(tenant, biller, ana):
    a = make_item(tenant.practice, ana, price="100.00")
    ClientFactory(practice=tenant.practice, first_name="Ben")

    picker = biller.get(url(tenant, "billing:invoice_new_items"), {"client": ana.pk}, HTTP_HX_REQUEST="true")
    assert picker.status_code == 200 and f'value="{a.pk}"' in picker.content.decode()

    response = biller.post(
        url(tenant, "billing:invoice_new"),
        {
            "client": ana.pk,
            "item": [a.pk],
            "action": "issue",
            "line-TOTAL_FORMS": "3",
            "line-INITIAL_FORMS": "0",
            "line-0-description": "Letter to GP",
            "line-0-units": "1",
            "line-0-unit_price": "25.00",
            "line-0-tax_percent": "10",
        },
    )

    invoice = Invoice.objects.get(client=ana)
    assert response.status_code == 302
    assert invoice.status == "open" and invoice.total == D("127.50")
    assert [line.description for line in invoice.lines.all()] == ["Individual therapy", "Letter to GP"]


@pytest.mark.django_db
def test_new_invoice_refuses_a_negative_free_line(tenant, biller, ana):
    response = biller.post(
        url(tenant, "billing:invoice_new"),
        {
            "client": ana.pk,
            "action": "draft",
            "line-TOTAL_FORMS": "1",
            "line-INITIAL_FORMS": "0",
            "line-0-description": "Oops",
            "line-0-unit_price": "-25",
        },
    )
    assert response.status_code == 400
    assert PRICE_NEGATIVE in response.content.decode()
    assert not Invoice.objects.exists()


# --- the invoice page ----------------------------------------------------------------------


@pytest.mark.django_db
def test_issue_a_draft_gives_it_a_number_and_due_date(tenant, biller, ana):
    tenant.practice.payment_terms_days = 14
    tenant.practice.save()
    draft = services.invoice_create(
        practice=tenant.practice, client=ana, actor=tenant.owner, item_ids=[make_item(tenant.practice, ana).pk]
    )

    biller.post(url(tenant, "billing:invoice_issue", invoice_id=draft.pk))

    draft.refresh_from_db()
    today = tenant.practice.local_today()
    assert draft.status == "open" and draft.number == "INV-000001"
    assert draft.issue_date == today and draft.due_date == today + timedelta(days=14)
    html = biller.get(draft.get_absolute_url()).content.decode()
    assert 'data-testid="invoice-status">Open<' in html and "INV-000001" in html and "Void" in html


@pytest.mark.django_db
def test_delete_draft_returns_its_items_to_uninvoiced(tenant, biller, ana):
    item = make_item(tenant.practice, ana)
    draft = services.invoice_create(practice=tenant.practice, client=ana, actor=tenant.owner, item_ids=[item.pk])

    response = biller.post(url(tenant, "billing:invoice_delete", invoice_id=draft.pk))

    assert response["Location"] == url(tenant, "clients:billing", client_id=ana.pk)
    assert not Invoice.objects.filter(pk=draft.pk).exists()
    item.refresh_from_db()
    assert item.invoice_id is None


@pytest.mark.django_db
def test_edit_an_open_invoice_without_payments_is_audited(tenant, biller, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    line = invoice.lines.get()

    page = biller.get(url(tenant, "billing:invoice_edit", invoice_id=invoice.pk))
    assert page.status_code == 200
    response = biller.post(
        url(tenant, "billing:invoice_edit", invoice_id=invoice.pk),
        {
            f"units_{line.pk}": "1",
            f"price_{line.pk}": "120",
            f"tax_{line.pk}": "0",
            "line-TOTAL_FORMS": "0",
            "line-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.total == D("120.00") and invoice.balance == D("120.00")
    assert account(ana).balance == D("120.00")
    assert AuditLog.objects.filter(action="invoice.edited").exists()


@pytest.mark.django_db
def test_editing_an_open_invoice_audits_each_changed_removed_and_added_line(tenant, biller, ana):
    # Given an open invoice with two lines
    first = make_item(tenant.practice, ana, price="100.00", description="Individual therapy")
    second = make_item(tenant.practice, ana, price="50.00", description="Report")
    invoice = services.invoice_create(
        practice=tenant.practice, client=ana, actor=tenant.owner, issue=True, item_ids=[first.pk, second.pk]
    )
    kept = invoice.lines.get(description="Individual therapy")
    dropped = invoice.lines.get(description="Report")
    # When the biller raises the first line's price, removes the second and adds a free line
    response = biller.post(
        url(tenant, "billing:invoice_edit", invoice_id=invoice.pk),
        {
            f"units_{kept.pk}": "1",
            f"price_{kept.pk}": "120",
            f"tax_{kept.pk}": "0",
            f"units_{dropped.pk}": "1",
            f"price_{dropped.pk}": "50",
            f"tax_{dropped.pk}": "0",
            "remove": [dropped.pk],
            "line-TOTAL_FORMS": "1",
            "line-INITIAL_FORMS": "0",
            "line-0-description": "Letter",
            "line-0-unit_price": "30",
        },
    )
    # Then the audit row says what changed on which line, what went and what came
    assert response.status_code == 302
    changes = AuditLog.objects.get(action="invoice.edited").changes
    assert changes["lines_changed"] == [
        {
            "line": kept.pk,
            "description": "Individual therapy",
            "unit_price": ["100", "120"],
            "net": ["100", "120"],
            "amount": ["100", "120"],
        }
    ]
    assert changes["lines_removed"] == [{"line": dropped.pk, "description": "Report", "amount": "50"}]
    (added,) = changes["lines_added"]
    assert (added["description"], added["amount"]) == ("Letter", "30")
    assert [D(v) for v in changes["total"]] == [D("150"), D("150")]


@pytest.mark.django_db
def test_edit_with_a_negative_price_saves_nothing(tenant, biller, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    line = invoice.lines.get()
    response = biller.post(
        url(tenant, "billing:invoice_edit", invoice_id=invoice.pk),
        {
            f"units_{line.pk}": "1",
            f"price_{line.pk}": "-1",
            f"tax_{line.pk}": "0",
            "line-TOTAL_FORMS": "0",
            "line-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 400 and PRICE_NEGATIVE in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.total == D("100.00")


@pytest.mark.django_db
def test_a_paid_invoice_cannot_be_edited_or_voided_and_says_what_to_do(tenant, biller, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    services.invoice_mark_paid(invoice=invoice, actor=tenant.owner, method="cash")

    html = biller.get(invoice.get_absolute_url()).content.decode()
    assert 'data-testid="invoice-status">Paid<' in html
    assert services.VOID_PAID.replace("'", "&#x27;") in html
    assert 'name="reason"' not in html

    response = biller.post(url(tenant, "billing:invoice_void", invoice_id=invoice.pk), {"reason": "Wrong client"})
    # A page older than the payment: the paid invoice as it is now, with why (issue 9, part 2).
    assert response.status_code == 409
    assert services.VOID_PAID.replace("'", "&#x27;") in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.status == "paid"

    edit = biller.get(url(tenant, "billing:invoice_edit", invoice_id=invoice.pk), follow=True)
    assert services.NOT_EDITABLE in edit.content.decode()


@pytest.mark.django_db
def test_void_needs_a_reason_then_releases_items_and_returns_credit(tenant, biller, ana):
    give_credit(tenant.practice, ana, tenant.owner, "30.00")
    item = make_item(tenant.practice, ana, price="100.00")
    invoice = services.invoice_create(
        practice=tenant.practice, client=ana, actor=tenant.owner, item_ids=[item.pk], apply_credit=True, issue=True
    )

    refused = biller.post(url(tenant, "billing:invoice_void", invoice_id=invoice.pk), {"reason": "  "})
    assert refused.status_code == 400 and services.REASON_REQUIRED in refused.content.decode()

    biller.post(url(tenant, "billing:invoice_void", invoice_id=invoice.pk), {"reason": "Billed the wrong client"})

    invoice.refresh_from_db()
    item.refresh_from_db()
    assert invoice.status == "void" and item.invoice_id is None
    assert account(ana).balance == 0 and account(ana).credit_balance == D("30.00")
    html = biller.get(invoice.get_absolute_url()).content.decode()
    assert 'data-testid="invoice-status">Void<' in html and "Billed the wrong client" in html


@pytest.mark.django_db
def test_apply_credit_later_to_an_open_invoice(tenant, biller, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    give_credit(tenant.practice, ana, tenant.owner, "40.00")

    response = biller.post(url(tenant, "billing:invoice_apply_credit", invoice_id=invoice.pk), follow=True)

    invoice.refresh_from_db()
    assert invoice.credit_applied == D("40.00") and invoice.balance == D("60.00")
    assert "Credit of $40.00 applied." in response.content.decode()


@pytest.mark.django_db
def test_mark_as_paid_records_a_payment_of_the_balance(tenant, biller, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")

    response = biller.post(
        url(tenant, "billing:invoice_mark_paid", invoice_id=invoice.pk),
        {"method": "bank_transfer", "received_on": tenant.practice.local_today().isoformat()},
        follow=True,
    )

    invoice.refresh_from_db()
    payment = Payment.objects.get(client=ana)
    assert invoice.status == "paid" and invoice.balance == 0
    assert payment.amount == D("100.00") and payment.method == "bank_transfer"
    html = response.content.decode()
    assert "Payment of $100.00 recorded." in html and 'data-testid="invoice-status">Paid<' in html


@pytest.mark.django_db
def test_create_credit_invoice_adds_to_the_credit_balance(tenant, biller, ana):
    response = biller.post(
        url(tenant, "billing:credit_new", client_id=ana.pk),
        {
            "reason": "Refund of a cancelled session",
            "line-TOTAL_FORMS": "3",
            "line-INITIAL_FORMS": "0",
            "line-0-description": "Cancelled session",
            "line-0-unit_price": "75",
        },
        follow=True,
    )

    credit = Invoice.objects.get(client=ana, kind="credit")
    assert credit.total == D("-75.00") and credit.status == "open"
    assert account(ana).credit_balance == D("75.00")
    html = response.content.decode()
    assert 'data-testid="invoice-status">Issued<' in html and "-$75.00" in html


@pytest.mark.django_db
def test_a_credit_invoice_has_no_due_date_and_its_page_shows_none(tenant, biller, ana):
    # Given a practice with 14-day terms, an issued invoice and an issued credit invoice
    practice = tenant.practice
    practice.payment_terms_days = 14
    practice.save()
    invoice = issued_invoice(tenant.practice, ana, tenant.owner)
    # When the biller creates a credit invoice
    biller.post(
        url(tenant, "billing:credit_new", client_id=ana.pk),
        {
            "reason": "Goodwill",
            "line-TOTAL_FORMS": "1",
            "line-INITIAL_FORMS": "0",
            "line-0-description": "Goodwill",
            "line-0-unit_price": "20",
        },
    )
    # Then the credit invoice has no due date, while the invoice is due in 14 days
    credit = Invoice.objects.get(client=ana, kind="credit")
    invoice.refresh_from_db()
    assert credit.due_date is None
    assert invoice.due_date == invoice.issue_date + timedelta(days=14)
    # and the credit invoice's page shows no "Due date", the invoice's page does
    credit_page = biller.get(credit.get_absolute_url()).content.decode()
    invoice_page = biller.get(invoice.get_absolute_url()).content.decode()
    assert "Due date" not in credit_page and 'data-testid="invoice-due-date"' not in credit_page
    assert 'data-testid="invoice-due-date"' in invoice_page


@pytest.mark.django_db
def test_credit_invoice_needs_a_reason(tenant, biller, ana):
    response = biller.post(
        url(tenant, "billing:credit_new", client_id=ana.pk),
        {
            "reason": "",
            "line-TOTAL_FORMS": "1",
            "line-INITIAL_FORMS": "0",
            "line-0-description": "x",
            "line-0-unit_price": "5",
        },
    )
    assert response.status_code == 400 and services.REASON_REQUIRED in response.content.decode()
    assert not Invoice.objects.exists()


# --- the calendar -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_calendar_create_invoice_issues_one_invoice_per_attendee(tenant, biller):
    from appointments.services import appointment_mark_completed
    from tests.factories import ServiceFactory, make_appointment

    kid1 = ClientFactory(practice=tenant.practice, first_name="Kid")
    kid2 = ClientFactory(practice=tenant.practice, first_name="Sib")
    service = ServiceFactory(practice=tenant.practice, price=D("90.00"))
    appointment = make_appointment(tenant.practice, tenant.owner, tenant.clinician, [kid1, kid2], [service])
    appointment_mark_completed(appointment=appointment, actor=tenant.owner)

    response = biller.post(url(tenant, "billing:appointment_create_invoice", appointment_id=appointment.pk))

    invoices = Invoice.objects.filter(practice=tenant.practice).order_by("client_id")
    assert [(i.client_id, i.status, i.total) for i in invoices] == [
        (kid1.pk, "open", D("90.00")),
        (kid2.pk, "open", D("90.00")),
    ]
    assert response["Location"] == url(tenant, "appointments:detail", appointment_id=appointment.pk)

    again = biller.post(url(tenant, "billing:appointment_create_invoice", appointment_id=appointment.pk), follow=True)
    assert NOTHING_ON_APPOINTMENT in again.content.decode()
    assert Invoice.objects.count() == 2


@pytest.mark.django_db
def test_calendar_create_invoice_and_add_payment_for_one_client(tenant, biller, ana):
    from appointments.services import appointment_mark_completed
    from tests.factories import ServiceFactory, make_appointment

    service = ServiceFactory(practice=tenant.practice, price=D("90.00"))
    appointment = make_appointment(tenant.practice, tenant.owner, tenant.clinician, [ana], [service])
    appointment_mark_completed(appointment=appointment, actor=tenant.owner)

    response = biller.post(
        url(tenant, "billing:appointment_create_invoice", appointment_id=appointment.pk), {"action": "pay"}
    )

    invoice = Invoice.objects.get(client=ana)
    assert response["Location"] == f"{url(tenant, 'billing:payment_new')}?invoice={invoice.pk}"


# --- access and query counts ------------------------------------------------------------------


@pytest.mark.django_db
def test_clinician_reads_own_clients_invoices_only_and_cannot_act(tenant, ana):
    mine = issued_invoice(tenant.practice, ana, tenant.owner)
    other = issued_invoice(
        tenant.practice, ClientFactory(practice=tenant.practice, clinicians=[tenant.clinician2]), tenant.owner
    )
    clara = signed_in(tenant.clinician)

    page = clara.get(mine.get_absolute_url())
    assert page.status_code == 200 and "Void" not in page.content.decode()
    assert clara.get(other.get_absolute_url()).status_code == 404
    assert clara.post(url(tenant, "billing:invoice_void", invoice_id=mine.pk), {"reason": "x"}).status_code == 403
    assert clara.get(url(tenant, "billing:invoice_new")).status_code == 403
    tab = clara.get(url(tenant, "clients:billing", client_id=ana.pk)).content.decode()
    assert "Create and issue" not in tab


@pytest.mark.django_db
def test_invoice_page_query_count_does_not_grow_with_lines(tenant, biller, ana, django_assert_max_num_queries):
    small = issued_invoice(tenant.practice, ana, tenant.owner)
    big = services.invoice_create(
        practice=tenant.practice,
        client=ana,
        actor=tenant.owner,
        issue=True,
        item_ids=[make_item(tenant.practice, ana, price=str(10 + n)).pk for n in range(12)],
    )
    services.invoice_mark_paid(invoice=big, actor=tenant.owner)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert biller.get(small.get_absolute_url()).status_code == 200
    with django_assert_max_num_queries(len(few) + 1):
        assert biller.get(big.get_absolute_url()).status_code == 200


@pytest.mark.django_db
def test_client_billing_tab_query_count_does_not_grow(tenant, biller, ana, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    issued_invoice(tenant.practice, ana, tenant.owner)
    make_item(tenant.practice, ana)
    online_payment(tenant.practice, ana, "12.00")
    with CaptureQueriesContext(connection) as few:
        biller.get(url(tenant, "clients:billing", client_id=ana.pk))
    for _ in range(8):
        invoice = issued_invoice(tenant.practice, ana, tenant.owner)
        services.invoice_mark_paid(invoice=invoice, actor=tenant.owner)
        make_item(tenant.practice, ana)
        online_payment(tenant.practice, ana, "12.00")
    with django_assert_max_num_queries(len(few)):
        response = biller.get(url(tenant, "clients:billing", client_id=ana.pk))
    assert response.status_code == 200
    assert response.content.decode().count('data-testid="online-fee"') == 9


@pytest.mark.django_db
def test_the_ledger_agrees_after_the_flows(tenant, biller, ana):
    give_credit(tenant.practice, ana, tenant.owner, "10.00")
    a = make_item(tenant.practice, ana, price="100.00")
    biller.post(
        url(tenant, "billing:client_create_invoice", client_id=ana.pk),
        {"item": [a.pk], "action": "issue", "apply_credit": "1"},
    )
    assert services.ledger_verify(tenant.practice) == []
    assert LedgerEntry.objects.filter(client=ana).count() == 3


@pytest.mark.django_db
def test_appointment_detail_offers_create_invoice_to_billers_once_there_are_items(tenant, biller, ana):
    from appointments.services import appointment_mark_completed
    from tests.factories import ServiceFactory, make_appointment

    service = ServiceFactory(practice=tenant.practice, price=D("90.00"))
    appointment = make_appointment(tenant.practice, tenant.owner, tenant.clinician, [ana], [service])
    detail = url(tenant, "appointments:detail", appointment_id=appointment.pk)
    action = url(tenant, "billing:appointment_create_invoice", appointment_id=appointment.pk)
    assert action not in biller.get(detail).content.decode()

    appointment_mark_completed(appointment=appointment, actor=tenant.owner)

    assert f'action="{action}"' in biller.get(detail).content.decode()
    assert f'action="{action}"' not in signed_in(tenant.clinician).get(detail).content.decode()


@pytest.mark.django_db
def test_the_forms_render_for_a_biller(tenant, biller, ana):
    make_item(tenant.practice, ana, description="Individual therapy")
    draft = services.invoice_create(
        practice=tenant.practice,
        client=ana,
        actor=tenant.owner,
        lines=[services.LineInput(description="Letter", unit_price=D("20"))],
    )

    new = biller.get(url(tenant, "billing:invoice_new"), {"client": ana.pk})
    assert new.status_code == 200 and "Individual therapy" in new.content.decode()
    assert 'hx-get="' in new.content.decode()
    assert biller.get(url(tenant, "billing:credit_new", client_id=ana.pk)).status_code == 200
    edit = biller.get(url(tenant, "billing:invoice_edit", invoice_id=draft.pk))
    assert edit.status_code == 200 and "Add uninvoiced items" in edit.content.decode()
    assert biller.get(url(tenant, "billing:payment_new"), {"client": ana.pk}).status_code == 200
