from __future__ import annotations

from decimal import Decimal
from html import escape as _escape

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from billing.forms.invoices import AmountRow
from billing.statuses import BADGE_BY_LABEL
from billing.submission import FIELD, submission_key_new
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


def _item_row(row: AmountRow, name: str, editable: bool, practice: Practice) -> str:
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
        cells.append(f'<td class="num" data-label="Price">{_escape(practice_money(practice, row.obj.unit_price))}</td>')
        cells.append(f'<td class="num" data-label="Tax %">{_escape(row.tax)}</td>')
    cells.append(f'<td class="num" data-label="Amount">{_escape(practice_money(practice, row.obj.amount))}</td></tr>')
    return "".join(cells)


@register.simple_tag
def item_rows(rows: list[AmountRow], name: str, editable: bool, practice: Practice) -> SafeString:
    """``{% item_rows rows name editable request.practice %}``: the ``<tr>`` of each row
    of an items table, with its checkbox named ``name`` and, when ``editable``, the units,
    price and tax inputs (with the row's errors)."""
    return mark_safe("\n".join(_item_row(row, _escape(name), editable, practice) for row in rows))  # noqa: S308
