from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from html import escape as _escape
from typing import Any

from django import template
from django.utils.formats import localize
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from billing.forms.invoices import AmountRow
from billing.hooks import PaymentDetails
from billing.models import Invoice, InvoiceLine
from billing.selectors.ledger import AccountHistory, HistoryEntry
from billing.statuses import BADGE_BY_LABEL
from billing.submission import FIELD, submission_key_new
from practice.dates import day_label
from practice.links import practice_url
from practice.models import Practice
from practice.money import practice_money

register = template.Library()


@register.filter
def negate(amount: Decimal | None) -> Decimal | None:
    return None if amount is None else -amount


@register.filter
def status_badge(display_status: str) -> str:
    """The badge class for an invoice's display status or a payment's status label."""
    return BADGE_BY_LABEL.get(display_status, "")


@register.filter
def plain_decimal(value: Decimal | None) -> str:
    """A Decimal for an input's value: no exponent, no trailing zeros past the cents."""
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    if "." in text and len(text.split(".")[1]) < 2:
        text = f"{Decimal(text):.2f}"
    return text


@register.simple_tag
def submission_key() -> str:
    """``{% submission_key %}`` inside a money form: its one-time key (billing/submission.py),
    fresh each time the form is shown."""
    return format_html('<input type="hidden" name="{}" value="{}">', FIELD, submission_key_new())


# --- the rows of an items table ------------------------------------------------------------
#
# A client's Billing tab lists every uninvoiced item (200 is a real month for a group
# practice), each with three inputs, their labels and error slots: about thirty template
# variables a row. Rendered by Django's template engine that is 40 ms for 200 rows; the
# same markup built here from strings escaped with the standard library's html.escape
# (what Django's own escape calls) is a few ms. The markup is the one
# templates/billing/_item_rows.html documents around it; tests read it back.

# Each cell carries its column's heading as data-label: on a phone the table is stacked
# into one card per row and app.css prints the heading beside the value.
_INPUTS = (
    ("units", "Units of", "4", "Units"),
    ("price", "Price of", "7", "Price"),
    ("tax", "Tax percent of", "4", "Tax %"),
)


def _input_cell(
    field: str, title: str, size: str, column: str, key: str, label: str, value: str, error: str | None
) -> str:
    cell = "num has-error" if error else "num"
    html = (
        f'<td class="{cell}" data-label="{column}">'
        f'<label class="visually-hidden" for="{field}_{key}">{title} {label}</label>'
        f'<input type="text" inputmode="decimal" class="amount-input" id="{field}_{key}" '
        f'name="{field}_{key}" value="{_escape(value)}" size="{size}">'
    )
    if error:
        html += f'<p class="error" role="alert">{_escape(error)}</p>'
    return html + "</td>"


def _item_row(row: AmountRow, name: str, editable: bool, money: Callable[[Decimal], str]) -> str:
    key = _escape(row.key)
    label = _escape(row.label)
    checked = " checked" if row.checked else ""
    cells = [
        f'<tr data-testid="uninvoiced-row">'
        f'<td class="pick" data-label="Include"><input type="checkbox" name="{name}" value="{key}" '
        f'id="{name}-{key}" aria-label="Include {label}"{checked}></td>'
        f'<td data-label="Date"><label for="{name}-{key}">{_escape(row.day)}</label></td>'
        f'<td data-label="Service">{_escape(row.description)}</td>'
    ]
    if editable:
        errors = row.errors
        for field, title, size, column in _INPUTS:
            cells.append(_input_cell(field, title, size, column, key, label, getattr(row, field), errors.get(field)))
    else:
        cells.append(f'<td class="num" data-label="Units">{_escape(row.units)}</td>')
        cells.append(f'<td class="num" data-label="Price">{money(row.obj.unit_price)}</td>')
        cells.append(f'<td class="num" data-label="Tax %">{_escape(row.tax)}</td>')
    cells.append(f'<td class="num" data-label="Amount">{money(row.obj.amount)}</td></tr>')
    return "".join(cells)


@register.simple_tag
def item_rows(rows: list[AmountRow], name: str, editable: bool, practice: Practice) -> SafeString:
    """``{% item_rows rows name editable request.practice %}``: the ``<tr>`` of each row
    of an items table, with its checkbox named ``name`` and, when ``editable``, the units,
    price and tax inputs (with the row's errors)."""
    # Items repeat their amounts (the session fee): each is formatted and escaped once.
    printed: dict[Decimal, str] = {}

    def money(amount: Decimal) -> str:
        if (text := printed.get(amount)) is None:
            text = printed[amount] = _escape(practice_money(practice, amount))
        return text

    return mark_safe("\n".join(_item_row(row, _escape(name), editable, money) for row in rows))  # noqa: S308


# A payment list shows these on each of its rows (25 on a client's Billing tab, 50 on the
# Payments tab): built here, as a template included per row cost more than the row itself.


@register.simple_tag
def dispute_badge(payment: Any, testid: str) -> SafeString:
    """``{% dispute_badge payment "testid" %}``: the badge of a payment's open or settled
    dispute (after a space), nothing when there is none."""
    status = payment.dispute_status
    if not status or status == "none":
        return mark_safe("")
    label = payment.get_dispute_status_display()
    return format_html(' <span class="badge {}" data-testid="{}">{}</span>', status_badge(label), testid, label)


@register.simple_tag
def online_payment_cells(details: PaymentDetails | None) -> SafeString:
    """``{% online_payment_cells d %}``: the Online payment and Fee cells of a payment row,
    what the processor (Stripe) says of an online payment (``details`` from
    billing.hooks.payment_rows, None for a payment made another way)."""
    if details is None:
        return mark_safe('<td data-label="Online payment">—</td><td data-label="Fee" class="num">—</td>')
    if details.dashboard_url:
        ref = format_html(
            '<a class="processor-id" href="{}" target="_blank" rel="noopener noreferrer" '
            'title="Open in the {} dashboard" data-testid="online-dashboard-link">{}</a>',
            details.dashboard_url,
            details.processor,
            details.payment_ref,
        )
    else:
        ref = format_html('<span class="processor-id">{}</span>', details.payment_ref)
    charge = (
        format_html('<br><span class="processor-id muted" data-testid="online-charge">{}</span>', details.charge_ref)
        if details.charge_ref
        else ""
    )
    return format_html(
        '<td data-label="Online payment" data-testid="online-payment">{}{}'
        '<br><span class="muted" data-testid="online-status">{}: {}</span></td>'
        '<td data-label="Fee" class="num" data-testid="online-fee">{}</td>',
        ref,
        charge,
        details.processor,
        details.status,
        details.fee_display or "—",
    )


_CREDIT_MARK = ' <span class="muted">(credit)</span>'


@register.simple_tag
def client_invoice_rows(invoices: Iterable[Invoice], practice: Practice) -> SafeString:
    """``{% client_invoice_rows page.object_list request.practice %}``: the ``<tr>`` of each
    invoice on a client's Billing tab (number, issued, due, total, balance, status). Built
    here for the reason item_rows is: the tab shows 25 of them beside every uninvoiced item."""
    rows = []
    for invoice in invoices:
        url = practice_url("billing:invoice", practice.slug, invoice_id=invoice.pk)
        credit = invoice.is_credit
        status = invoice.display_status
        css = status_badge(status)
        rows.append(
            '<tr data-testid="client-invoice-row">'
            f'<td data-label="Number"><a href="{_escape(url)}">{_escape(invoice.number or "Draft")}</a>'
            f"{_CREDIT_MARK if credit else ''}</td>"
            f'<td data-label="Issued">{_escape(day_label(invoice.issue_date) or "—")}</td>'
            f'<td data-label="Due">{"—" if credit else _escape(day_label(invoice.due_date) or "—")}</td>'
            f'<td class="num" data-label="Total">{_escape(practice_money(practice, invoice.total))}</td>'
            f'<td class="num" data-label="Balance">{_escape(practice_money(practice, invoice.balance))}</td>'
            f'<td data-label="Status"><span class="badge {css}">{_escape(status)}</span></td></tr>'
        )
    if not rows:
        return mark_safe('<tr><td colspan="6" class="muted">No invoices yet.</td></tr>')
    return mark_safe("\n".join(rows))  # noqa: S308 - every value above is escaped


@register.simple_tag
def client_payment_rows(rows: Iterable[tuple[Any, PaymentDetails | None]], practice: Practice) -> SafeString:
    """``{% client_payment_rows billing.payment_rows request.practice %}``: the ``<tr>`` of
    each payment on a client's Billing tab (date, method, reference, amount, status with any
    dispute, and what the processor says of an online payment)."""
    out = []
    for payment, details in rows:
        url = practice_url("billing:payment", practice.slug, payment_id=payment.pk)
        if payment.status == "reversed":
            status = '<span class="badge">Deleted</span>'
        else:
            label = payment.get_status_display()
            status = f'<span class="badge {status_badge(label)}">{_escape(label)}</span>'
        out.append(
            '<tr data-testid="client-payment-row">'
            f'<td data-label="Date"><a href="{_escape(url)}">{_escape(day_label(payment.received_on))}</a></td>'
            f'<td data-label="Method">{_escape(payment.get_method_display())}</td>'
            f'<td data-label="Reference">{_escape(payment.reference or "—")}</td>'
            f'<td class="num" data-label="Amount">{_escape(practice_money(practice, payment.amount))}</td>'
            f'<td data-label="Status">{status}{dispute_badge(payment, "client-payment-dispute")}</td>'
            f"{online_payment_cells(details)}</tr>"
        )
    if not out:
        return mark_safe('<tr><td colspan="7" class="muted">No payments yet.</td></tr>')
    return mark_safe("\n".join(out))  # noqa: S308 - every value above is escaped


@register.simple_tag
def invoice_line_rows(lines: Iterable[InvoiceLine], practice: Practice) -> SafeString:
    """``{% invoice_line_rows lines request.practice %}``: the ``<tr>`` of each line on the
    invoice page (date, description, units, price, tax with its rate, amount). Numbers
    print as the template engine prints them (localized, trailing zeros dropped)."""
    rows = []
    for line in lines:
        rate = (
            f' <span class="muted">({_escape(localize(line.tax_percent.normalize()))}%)</span>'
            if line.tax_percent
            else ""
        )
        rows.append(
            '<tr data-testid="invoice-line">'
            f'<td data-label="Date">{_escape(day_label(line.date) or "—")}</td>'
            f'<td data-label="Description">{_escape(line.description)}</td>'
            f'<td class="num" data-label="Units">{_escape(localize(line.units.normalize()))}</td>'
            f'<td class="num" data-label="Price">{_escape(practice_money(practice, line.unit_price))}</td>'
            f'<td class="num" data-label="Tax">{_escape(practice_money(practice, line.tax))}{rate}</td>'
            f'<td class="num" data-label="Amount">{_escape(practice_money(practice, line.amount))}</td></tr>'
        )
    if not rows:
        return mark_safe('<tr><td colspan="6" class="muted">No lines.</td></tr>')
    return mark_safe("\n".join(rows))  # noqa: S308 - every value above is escaped


def _history_document(entry: HistoryEntry, slug: str) -> str:
    if entry.invoice_id:
        url = practice_url("billing:invoice", slug, invoice_id=entry.invoice_id)
        return f'<a href="{_escape(url)}">{_escape(entry.invoice_label)}</a>'
    if entry.payment_id:
        url = practice_url("billing:payment", slug, payment_id=entry.payment_id)
        return f'<a href="{_escape(url)}">Payment of {_escape(day_label(entry.payment_received_on))}</a>'
    return "—"


@register.simple_tag
def client_history_rows(history: AccountHistory, practice: Practice) -> SafeString:
    """``{% client_history_rows billing.history request.practice %}``: the ``<tr>`` of each
    movement on a page of a client's account history (date, what, document, debit, credit,
    and the balances after it), after the page's opening balances from its second page on.
    Dates are in the current time zone (the record's, the practice's)."""
    out = []
    if history.page.number > 1:
        out.append(
            '<tr data-testid="history-opening"><td colspan="5"><em>Opening balance of this page</em></td>'
            f'<td class="num" data-label="Balance">{_escape(practice_money(practice, history.opening_balance))}</td>'
            f'<td class="num" data-label="Credit balance">{_escape(practice_money(practice, history.opening_credit))}'
            "</td></tr>"
        )
    for row in history.rows:
        entry = row.entry
        memo = f' <span class="muted">· {_escape(entry.memo)}</span>' if entry.memo else ""
        change = ""
        if row.credit_change:
            sign = "+" if row.credit_change > 0 else ""
            change = f' <span class="muted">({sign}{_escape(practice_money(practice, row.credit_change))})</span>'
        debit = _escape(practice_money(practice, row.debit)) if row.debit else ""
        credit = _escape(practice_money(practice, row.credit)) if row.credit else ""
        out.append(
            '<tr data-testid="history-row">'
            f'<td data-label="Date">{_escape(day_label(entry.created_at))}</td>'
            f'<td data-label="What">{_escape(entry.kind_label)}{memo}</td>'
            f'<td data-label="Document">{_history_document(entry, practice.slug)}</td>'
            f'<td class="num" data-label="Debit">{debit}</td>'
            f'<td class="num" data-label="Credit">{credit}</td>'
            f'<td class="num" data-label="Balance" data-testid="history-balance">'
            f"{_escape(practice_money(practice, row.balance))}</td>"
            f'<td class="num" data-label="Credit balance" data-testid="history-credit">'
            f"{_escape(practice_money(practice, row.credit_balance))}{change}</td></tr>"
        )
    if not history.rows:
        out.append('<tr><td colspan="7" class="muted">No movements yet.</td></tr>')
    return mark_safe("\n".join(out))  # noqa: S308 - every value above is escaped
