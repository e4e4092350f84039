"""The invoice line editor and invoice page as a biller uses them: uninvoiced items start
ticked on + New invoice, "Add line" gives one more free-line row (without JavaScript, by
showing the page again and recording nothing), and the invoice page prints."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from billing import services
from billing.models import Invoice
from tests.factories import ClientFactory, make_item
from tests.helpers import url

D = Decimal


@pytest.fixture
def ana(tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Smith")


def ticked_items(html: str) -> list[str]:
    return re.findall(r'<input type="checkbox" name="item" value="(\d+)"[^>]*checked', html)


def free_rows(html: str) -> int:
    return html.count('data-testid="free-line"') - 1  # the empty form's copy in <template>


@pytest.mark.django_db
def test_new_invoice_starts_with_the_clients_uninvoiced_items_ticked(tenant, biller, ana):
    a = make_item(tenant.practice, ana, price="100.00")
    b = make_item(tenant.practice, ana, price="50.00", description="Report writing")

    page = biller.get(url(tenant, "billing:invoice_new"), {"client": ana.pk}).content.decode()
    picker = biller.get(url(tenant, "billing:invoice_new_items"), {"client": ana.pk}).content.decode()

    assert sorted(ticked_items(page)) == sorted([str(a.pk), str(b.pk)])
    assert sorted(ticked_items(picker)) == sorted([str(a.pk), str(b.pk)])


@pytest.mark.django_db
def test_the_billing_tab_and_edit_page_still_start_with_items_unticked(tenant, biller, ana):
    make_item(tenant.practice, ana, price="100.00")
    draft = services.invoice_create(
        practice=tenant.practice,
        client=ana,
        actor=tenant.owner,
        lines=[services.LineInput(description="Letter", unit_price=D("20"))],
    )

    tab = biller.get(url(tenant, "clients:billing", client_id=ana.pk)).content.decode()
    edit = biller.get(url(tenant, "billing:invoice_edit", invoice_id=draft.pk)).content.decode()

    assert ticked_items(tab) == []
    assert 'name="add_item"' in edit and not re.search(r'name="add_item"[^>]*checked', edit)


@pytest.mark.django_db
def test_add_line_without_javascript_shows_one_more_row_keeps_what_was_typed_and_records_nothing(tenant, biller, ana):
    item = make_item(tenant.practice, ana, price="100.00")
    data = {
        "client": ana.pk,
        "item": [item.pk],
        "add_line": "1",
        "line-TOTAL_FORMS": "3",
        "line-INITIAL_FORMS": "0",
        "line-0-description": "Letter to GP",
        "line-0-unit_price": "25.00",
        "line-1-description": "Half typed",  # no price yet: no error while still adding
    }

    response = biller.post(url(tenant, "billing:invoice_new"), data)

    html = response.content.decode()
    assert response.status_code == 200
    assert free_rows(html) == 4
    assert 'name="line-TOTAL_FORMS" value="4"' in html
    assert 'value="Letter to GP"' in html and 'value="Half typed"' in html
    assert "Enter a price." not in html
    assert ticked_items(html) == [str(item.pk)]
    assert not Invoice.objects.exists()


@pytest.mark.django_db
def test_five_free_lines_are_issued_on_one_invoice(tenant, biller, ana):
    data: dict = {"client": ana.pk, "action": "issue", "line-TOTAL_FORMS": "5", "line-INITIAL_FORMS": "0"}
    for i in range(5):
        data[f"line-{i}-description"] = f"Report {i + 1}"
        data[f"line-{i}-unit_price"] = "10.00"

    response = biller.post(url(tenant, "billing:invoice_new"), data)

    invoice = Invoice.objects.get(client=ana)
    assert response.status_code == 302
    assert invoice.status == "open" and invoice.total == D("50.00")
    assert invoice.lines.count() == 5


@pytest.mark.django_db
def test_add_line_stops_at_the_line_limit(tenant, biller, ana):
    data = {"client": ana.pk, "add_line": "1", "line-TOTAL_FORMS": "50", "line-INITIAL_FORMS": "0"}

    html = biller.post(url(tenant, "billing:invoice_new"), data).content.decode()

    assert free_rows(html) == 50
    assert re.search(r'<button[^>]*data-add-line="line"[^>]*disabled', html)


@pytest.mark.django_db
def test_add_line_on_the_edit_and_credit_pages_records_nothing(tenant, biller, ana):
    draft = services.invoice_create(
        practice=tenant.practice,
        client=ana,
        actor=tenant.owner,
        lines=[services.LineInput(description="Letter", unit_price=D("20"))],
    )
    line = draft.lines.get()
    edit = biller.post(
        url(tenant, "billing:invoice_edit", invoice_id=draft.pk),
        {
            "add_line": "1",
            f"units_{line.pk}": "1",
            f"price_{line.pk}": "20",
            f"tax_{line.pk}": "0",
            "line-TOTAL_FORMS": "1",
            "line-INITIAL_FORMS": "0",
            "line-0-description": "Second letter",
            "line-0-unit_price": "15",
        },
    )
    credit = biller.post(
        url(tenant, "billing:credit_new", client_id=ana.pk),
        {"add_line": "1", "reason": "Goodwill", "line-TOTAL_FORMS": "1", "line-INITIAL_FORMS": "0"},
    )

    assert edit.status_code == 200 and free_rows(edit.content.decode()) == 2
    assert credit.status_code == 200 and free_rows(credit.content.decode()) == 2
    assert 'value="Goodwill"' in credit.content.decode()
    draft.refresh_from_db()
    assert draft.lines.count() == 1 and draft.total == D("20.00")
    assert Invoice.objects.count() == 1


@pytest.mark.django_db
def test_invoice_page_has_a_print_button_and_its_document_for_paper(tenant, biller, ana):
    tenant.practice.address = "1 Harbour St\nSydney"
    tenant.practice.save()
    draft = services.invoice_create(
        practice=tenant.practice,
        client=ana,
        actor=tenant.owner,
        lines=[services.LineInput(description="Letter", unit_price=D("20"))],
    )

    html = biller.get(url(tenant, "billing:invoice", invoice_id=draft.pk)).content.decode()

    # Print and Download PDF carry an icon that screen readers skip, and keep their words
    assert re.search(r'<button[^>]*data-print[^>]*><svg[^>]*aria-hidden="true".*?</svg> Print</button>', html)
    assert re.search(r'data-testid="invoice-pdf"><svg[^>]*aria-hidden="true".*?</svg> Download PDF</a>', html)
    assert "js/billing.js" in html
    # On paper the page is the invoice's document, as in its PDF, with the practice's address
    paper = html[html.index('class="print-only invoice-print"') :]
    assert 'data-testid="document"' in paper and "1 Harbour St<br>Sydney" in paper
    assert 'data-theme-colour="#' in paper
