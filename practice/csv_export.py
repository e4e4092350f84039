"""Lists as CSV files: a header row, one row per record, streamed so a list of 20,000
invoices is written as it is read instead of being built in memory first.

Money goes out as plain decimals in the practice's currency places ("1234.50", no symbol,
no thousands separator) so a spreadsheet reads numbers. Text that a spreadsheet would take
for a formula (=, +, -, @ first) gets a leading apostrophe: a client named "=HYPERLINK(...)"
must not become a live formula on the biller's computer.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.http import StreamingHttpResponse

from .models import Practice
from .money import quantize

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Rows read from the database per round trip while streaming.
CHUNK = 500


class _Echo:
    """A file-like object whose write returns the line, for csv.writer to stream through."""

    def write(self, value: str) -> str:
        return value


def csv_money(practice: Practice, amount: Decimal | None) -> str:
    """An amount as a plain decimal with the currency's places: "1234.50", "-20.00"."""
    return str(quantize(amount or Decimal("0"), practice.currency))


def csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[str]]) -> StreamingHttpResponse:
    """A streamed CSV download: ``header`` first, then ``rows`` (already made into text by
    csv_money and csv_text)."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def wants_csv(request: Any) -> bool:
    return bool(request.GET.get("format") == "csv")
