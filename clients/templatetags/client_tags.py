from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from practice.links import practice_url
from practice.money import practice_money

register = template.Library()

STATUS_BADGES = {
    "active": "badge-ok",
    "archived": "",
    "scheduled": "badge-info",
    "completed": "badge-ok",
    "no_show": "badge-bad",
    "cancelled": "",
    "late_cancelled": "badge-warn",
}


@register.filter
def status_badge(status: str) -> str:
    """The badge class for a client or appointment status."""
    return STATUS_BADGES.get(status, "")


@register.inclusion_tag("clients/_sort_header.html", takes_context=True)
def sort_header(context: dict[str, Any], key: str, label: str, css: str = "") -> dict[str, Any]:
    """A sortable column's header: a link that sorts by ``key`` (A to Z, or largest first
    for an amount), or the other way when the list is sorted by it already; and the
    ``aria-sort`` a screen reader announces. The link keeps the filters, drops the page."""
    current = context.get("sort", "name")
    ascending_first = key == "name"
    if current == key:
        state, next_sort = "ascending", f"-{key}"
    elif current == f"-{key}":
        state, next_sort = "descending", key
    else:
        state, next_sort = "", key if ascending_first else f"-{key}"
    params = context["request"].GET.copy()
    params.pop("page", None)
    params["sort"] = next_sort
    return {"label": label, "state": state, "href": f"?{params.urlencode()}", "css": css}


_NO_CONTACT = '<span class="muted">—</span>'
_UNASSIGNED = '<span class="muted">Unassigned</span>'


def _client_row(client: Any, columns: list[Any], practice: Any) -> str:
    url = escape(practice_url("clients:detail", practice.slug, client_id=client.pk))
    name = f'<a class="client-name" href="{url}">{escape(client.display_name)}</a>'
    if client.preferred_name and client.preferred_name != client.first_name:
        name += f'<div class="muted small">{escape(client.full_name)}</div>'
    contact = ""
    if client.email:
        contact += f"<div>{escape(client.email)}</div>"
    if client.phone:
        contact += f'<div class="muted small">{escape(client.phone)}</div>'
    clinicians = ", ".join(escape(user.get_full_name()) for user in client.clinicians.all())
    payer = client.payer
    if payer is not None:
        relationship = escape(payer.get_relationship_display().lower())
        paid_by = (
            f'{escape(payer.first_name)} {escape(payer.last_name)} <span class="muted small">({relationship})</span>'
        )
    else:
        paid_by = '<span class="muted">Self</span>'
    cells = [
        '<tr data-testid="client-row">',
        f"<td>{name}</td>",
        f'<td data-label="Contact">{contact or _NO_CONTACT}</td>',
        f'<td data-label="Clinicians">{clinicians or _UNASSIGNED}</td>',
        f'<td data-label="Payer">{paid_by}</td>',
        f'<td data-label="Status"><span class="badge {status_badge(client.status)}">'
        f"{escape(client.get_status_display())}</span></td>",
    ]
    for column in columns:
        value = getattr(client, column.key, None)
        shown = escape(practice_money(practice, value))
        if column.flag:
            shown = f'<span class="badge badge-bad">{shown}</span>' if value else '<span class="muted">—</span>'
        cells.append(
            f'<td class="num" data-label="{escape(column.label)}" data-testid="client-{escape(column.key)}">'
            f"{shown}</td>"
        )
    cells.append("</tr>")
    return "".join(cells)


@register.simple_tag(takes_context=True)
def client_rows(context: template.Context, clients: Iterable[Any], columns: list[Any]) -> SafeString:
    """``{% client_rows page columns %}``: the Clients list's ``<tr>`` rows (name, contact,
    clinicians, payer, status and the money columns of the apps above). Built here, as the
    billing tables' rows are: the list shows 50 clients, and their cells looked up through
    the template cost more than reading them. Every value is escaped."""
    practice = context["request"].practice
    return mark_safe("\n".join(_client_row(client, columns, practice) for client in clients))  # noqa: S308
