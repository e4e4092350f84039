"""Reading a report page as a person does: the figure in a tile, the cells of a table's rows."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

from django.http import HttpResponse, StreamingHttpResponse


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def figure(page: str, testid: str) -> str:
    """The text of the element marked ``data-testid=testid``."""
    found = re.search(rf'data-testid="{re.escape(testid)}"[^>]*>(.*?)</', page, re.S)
    assert found, f"no {testid} on the page"
    return _text(found.group(1))


def rows(page: str, testid: str) -> list[list[str]]:
    """The cells of every ``<tr data-testid=testid>``, as text."""
    found = re.findall(rf'<tr[^>]*data-testid="{re.escape(testid)}"[^>]*>(.*?)</tr>', page, re.S)
    return [[_text(cell) for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)] for row in found]


def errors(page: str) -> list[str]:
    return [_text(e) for e in re.findall(r'data-testid="filter-error">(.*?)</p>', page, re.S)]


def csv_rows(response: HttpResponse | StreamingHttpResponse) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()  # type: ignore[union-attr]
    return list(csv.reader(io.StringIO(body)))
