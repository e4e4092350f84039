"""Tags of the Billing page and the package pages (amounts use practice_tags' ``money`` filter)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from html import escape
from typing import Any

from django import template
from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

from billing.hooks import PaymentDetails
from billing.models import Payment
from billing.statuses import status_badge
from practice.dates import day_label
from practice.links import practice_url
from practice.models import Practice
from practice.money import practice_money

from .billing_tags import dispute_badge, online_payment_cells

register = template.Library()


@register.simple_tag
def derived_badge(status: str) -> SafeString:
    """A status badge. Built in Python, not from a template: the Billing tabs show one on
    each of their 50 rows, and a template rendered per row was a fifth of the page's time."""
    return mark_safe(_badge(status))  # noqa: S308 - _badge escapes the label


def _badge(status: str) -> str:
    label, css = status_badge(status)
    return f'<span class="badge {css}">{escape(label)}</span>' if css else f'<span class="badge">{escape(label)}</span>'


# The rows of the Invoices, Payments and Credits tabs, 50 a page: built here, as
# billing_tags.item_rows is, because looking up each cell's values through the template
# took longer than reading the page's rows. The markup is the one each tab's template
# (templates/billing/_billing_home_*.html) documents around it; every value is escaped.


def _client_links(request: HttpRequest) -> Callable[[int], str]:
    """The "show only this client" link of each row: the page's query with ``client`` set
    and ``page`` dropped (what ``{% querystring client=... page=None %}`` gives), escaped."""
    params = request.GET.copy()
    params.pop("page", None)
    made: dict[int, str] = {}

    def link(client_id: int) -> str:
        if client_id not in made:
            params["client"] = str(client_id)
            made[client_id] = escape("?" + params.urlencode())
        return made[client_id]

    return link


def _client_cell(link: str, client: Any) -> str:
    name = escape(client.display_name) if client is not None else ""
    return f'<td data-label="Client"><a href="{link}" title="Show only this client">{name}</a></td>'


def _rows(rows: list[str], empty: str, columns: int, filtered: bool) -> SafeString:
    if not rows:
        match = " match these filters" if filtered else ""
        return mark_safe(f'<tr><td colspan="{columns}" class="empty">No {empty}{match}.</td></tr>')  # noqa: S308
    return mark_safe("\n".join(rows))  # noqa: S308 - every value in the rows is escaped


@register.simple_tag(takes_context=True)
def invoice_tab_rows(context: template.Context, invoices: Iterable[Any], filtered: bool) -> SafeString:
    """``{% invoice_tab_rows page filtered %}``: the Invoices tab's ``<tr>`` rows."""
    request = context["request"]
    practice: Practice = request.practice
    link = _client_links(request)
    rows = []
    for invoice in invoices:
        pk = invoice.pk
        number = escape(invoice.number) if invoice.number else ""
        url = escape(practice_url("billing:invoice", practice.slug, invoice_id=pk))
        due = "—" if invoice.is_credit else escape(day_label(invoice.due_date) or "—")
        rows.append(
            '<tr data-testid="invoice-row">'
            f'<td data-label="Number" class="select-col"><input type="checkbox" name="invoice" value="{pk}"'
            f' aria-label="Tick {number or f"draft {pk}"}"> <a href="{url}">{number or "Draft"}</a></td>'
            f"{_client_cell(link(invoice.client_id), invoice.client)}"
            f'<td data-label="Issued">{escape(day_label(invoice.issue_date) or "—")}</td>'
            f'<td data-label="Due">{due}</td>'
            f'<td data-label="Total" class="num">{escape(practice_money(practice, invoice.total))}</td>'
            f'<td data-label="Balance" class="num">{escape(practice_money(practice, invoice.balance))}</td>'
            f'<td data-label="Status">{_badge(invoice.derived_status)}</td>'
            "</tr>"
        )
    return _rows(rows, "invoices", 7, filtered)


@register.simple_tag(takes_context=True)
def payment_tab_rows(
    context: template.Context, rows: Iterable[tuple[Payment, PaymentDetails | None]], filtered: bool
) -> SafeString:
    """``{% payment_tab_rows page_rows filtered %}``: the Payments tab's ``<tr>`` rows, each
    with what the processor says of an online payment."""
    request = context["request"]
    practice: Practice = request.practice
    link = _client_links(request)
    out = []
    for payment, online in rows:
        url = escape(practice_url("billing:payment", practice.slug, payment_id=payment.pk))
        credited = escape(practice_money(practice, payment.credited)) if payment.credited else "—"
        out.append(
            '<tr data-testid="payment-row">'
            f'<td data-label="Received"><a href="{url}">{escape(day_label(payment.received_on))}</a></td>'
            f"{_client_cell(link(payment.client_id), payment.client)}"
            f'<td data-label="Method">{escape(payment.get_method_display())}</td>'
            f'<td data-label="Reference">{escape(payment.reference or "—")}</td>'
            f'<td data-label="Amount" class="num">{escape(practice_money(practice, payment.amount))}</td>'
            f'<td data-label="To credit" class="num">{credited}</td>'
            f'<td data-label="Status">{_badge(payment.status)}{dispute_badge(payment, "payment-row-dispute")}</td>'
            f"{online_payment_cells(online)}"
            "</tr>"
        )
    return _rows(out, "payments", 9, filtered)


@register.simple_tag(takes_context=True)
def credit_tab_rows(context: template.Context, rows: Iterable[dict[str, Any]], filtered: bool) -> SafeString:
    """``{% credit_tab_rows page_rows filtered %}``: the Credits tab's ``<tr>`` rows (from
    billing.selectors.credits_page_rows), each with the invoices its credit paid."""
    request = context["request"]
    practice: Practice = request.practice
    link = _client_links(request)
    out = []
    for row in rows:
        if row["source"] == "invoice":
            url = escape(practice_url("billing:invoice", practice.slug, invoice_id=row["id"]))
            doc = escape(row["doc"]) if row["doc"] else "Draft"
            credit = f'<a href="{url}">{doc}</a> <span class="muted">credit invoice</span>'
            note = escape(row["note"] or "—")
        else:
            url = escape(practice_url("billing:payment", practice.slug, payment_id=row["id"]))
            credit = f'<a href="{url}">Overpayment</a>'
            note = escape(row["doc"] or "—")
        trail = row["trail"]
        uses = (
            ", ".join(
                f'<a href="{escape(practice_url("billing:invoice", practice.slug, invoice_id=use.invoice_id))}">'
                f"{escape(use.number)}</a> {escape(practice_money(practice, use.amount))}"
                for use in trail.uses
            )
            or '<span class="muted">—</span>'
        )
        out.append(
            '<tr data-testid="credit-row">'
            f'<td data-label="Credit">{credit}</td>'
            f"{_client_cell(link(row['client_id']), row['client'])}"
            f'<td data-label="Date">{escape(day_label(row["on"]) or "—")}</td>'
            f'<td data-label="Reason or reference">{note}</td>'
            f'<td data-label="Amount" class="num">{escape(practice_money(practice, row["credit"]))}</td>'
            f'<td data-label="Used on" data-testid="credit-used-on">{uses}</td>'
            f'<td data-label="Left" class="num" data-testid="credit-left">'
            f"{escape(practice_money(practice, trail.left))}</td>"
            f'<td data-label="Status">{_badge(row["badge"])}</td>'
            "</tr>"
        )
    return _rows(out, "credits", 8, filtered)
