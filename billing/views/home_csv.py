"""The Billing page's tabs as CSV files: the filtered list (every row, not one page),
a header row, money as plain decimals, streamed (practice.csv_export)."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Any

from django.http import StreamingHttpResponse

from clients.models import Client
from practice.csv_export import CHUNK, csv_money, csv_response, csv_text
from practice.models import Practice

from .. import selectors
from ..statuses import status_badge


def _filename(practice: Practice, tab: str) -> str:
    return f"{tab}-{practice.local_today():%Y-%m-%d}.csv"


def _status(code: str) -> str:
    return status_badge(code)[0]


def invoices_csv(practice: Practice, rows: Any) -> StreamingHttpResponse:
    header = ["Number", "Client", "Issued", "Due", "Total", "Paid", "Balance", "Status"]

    def lines() -> Iterator[list[str]]:
        for i in rows.iterator(chunk_size=CHUNK):
            yield [
                csv_text(i.number or f"Draft {i.pk}"),
                csv_text(i.client.display_name),
                csv_text(i.issue_date),
                csv_text(i.due_date),
                csv_money(practice, i.total),
                csv_money(practice, i.amount_paid),
                csv_money(practice, i.balance),
                _status(i.derived_status),
            ]

    return csv_response(_filename(practice, "invoices"), header, lines())


def payments_csv(practice: Practice, rows: Any) -> StreamingHttpResponse:
    header = ["Received", "Client", "Method", "Reference", "Amount", "To credit", "Status"]

    def lines() -> Iterator[list[str]]:
        for p in rows.iterator(chunk_size=CHUNK):
            yield [
                csv_text(p.received_on),
                csv_text(p.client.display_name),
                str(p.get_method_display()),
                csv_text(p.reference),
                csv_money(practice, p.amount),
                csv_money(practice, p.credited),
                _status(p.status),
            ]

    return csv_response(_filename(practice, "payments"), header, lines())


def uninvoiced_csv(practice: Practice, rows: Any) -> StreamingHttpResponse:
    header = ["Client", "Items", "Total", "Oldest", "Newest"]

    def lines() -> Iterator[list[str]]:
        for r in rows.iterator(chunk_size=CHUNK):
            name = f"{r['client__preferred_name'] or r['client__first_name']} {r['client__last_name']}"
            yield [
                csv_text(name),
                str(r["item_count"]),
                csv_money(practice, r["total"]),
                csv_text(r["oldest"]),
                csv_text(r["newest"]),
            ]

    return csv_response(_filename(practice, "uninvoiced"), header, lines())


def credits_csv(practice: Practice, rows: Any) -> StreamingHttpResponse:
    """Credits with what is left of each: clients and trails read per chunk of rows (two
    queries a chunk), as the tab reads them per page."""
    header = ["Credit", "Number or reference", "Client", "Date", "Reason", "Amount", "Left", "Status"]

    def lines() -> Iterator[list[str]]:
        stream = rows.iterator(chunk_size=CHUNK)
        while chunk := list(islice(stream, CHUNK)):
            client_ids = {r["client_id"] for r in chunk}
            clients = Client.objects.in_bulk(client_ids)
            trails = selectors.credit_trails(practice, client_ids)
            for r in chunk:
                is_invoice = r["source"] == "invoice"
                client = clients.get(r["client_id"])
                trail = trails.get((r["source"], r["id"]))
                state = "issued" if is_invoice and r["state"] == "open" else r["state"]
                yield [
                    "Credit invoice" if is_invoice else "Overpayment",
                    csv_text(r["doc"] or ("Draft" if is_invoice else "")),
                    csv_text(client.display_name if client else ""),
                    csv_text(r["on"]),
                    csv_text(r["note"] if is_invoice else ""),
                    csv_money(practice, r["credit"]),
                    csv_money(practice, trail.left if trail else None),
                    _status(state),
                ]

    return csv_response(_filename(practice, "credits"), header, lines())
