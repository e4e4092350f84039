"""Document benchmarks: a one-page invoice PDF.

``invoice_pdf`` times the whole GET of an issued invoice's PDF (middleware, the invoice's
reads, the document's content, the template, WeasyPrint) after warm-up. Its floor is
WeasyPrint rendering the very same HTML, with the stylesheet inside it, and nothing
else: ``HTML(string=...).write_pdf()``, a fresh font configuration each time as a bare
call makes. ``floor_sql_ms`` is the page's SQL replayed bare, as for the pages.
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.documents.content import invoice_document
from billing.documents.pdf import BASE_URL, LocalFilesFetcher, document_html
from billing.models import Invoice
from billing.selectors import invoice_get_for_practice
from billing.services import invoice_create
from practice.models import Membership
from practice.selectors import invoice_template_for

from .billing import _items
from .data import bench_practice
from .harness import RUNS, WARMUP, Context, sql_floor

PDF_LINES = 3


def invoice_pdf(ctx: Context) -> dict[str, Any]:
    """The PDF of an issued invoice of 3 lines (one page): median of 30 GETs after 5."""
    from weasyprint import HTML

    practice, clients = bench_practice(ctx.owner, "bench-invoice-pdf", 1)
    client = clients[0]
    invoice = Invoice.objects.filter(practice=practice, client=client).first()
    if invoice is None:
        ids = _items(practice, client, PDF_LINES, practice.local_today() - timedelta(days=1))
        invoice = invoice_create(practice=practice, client=client, actor=ctx.owner, item_ids=ids, issue=True)
    url = reverse("billing:invoice_pdf", kwargs={"practice_slug": practice.slug, "invoice_id": invoice.pk})

    def get() -> bytes:
        response = ctx.client.get(url)
        if response.status_code != 200 or response["Content-Type"] != "application/pdf":
            raise RuntimeError(f"GET {url} answered {response.status_code}")
        return response.content

    for _ in range(WARMUP):
        get()
    timings: list[float] = []
    counts: set[int] = set()
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            get()
            timings.append((time.perf_counter() - started) * 1000)
        counts.add(len(queries))
    if len(counts) != 1:
        raise RuntimeError(f"{url} ran a different number of queries per request: {sorted(counts)}")
    with CaptureQueriesContext(connection) as captured:
        get()
    statements = [q["sql"] for q in captured.captured_queries]

    membership = Membership.objects.get(practice=practice, user=ctx.owner)
    document = invoice_document(
        invoice_get_for_practice(practice, membership, invoice.pk), invoice_template_for(practice)
    )
    html = document_html(document, standalone=True)
    floor_timings: list[float] = []
    for n in range(WARMUP + RUNS):
        started = time.perf_counter()
        HTML(string=html, base_url=BASE_URL, url_fetcher=LocalFilesFetcher()).write_pdf()
        if n >= WARMUP:
            floor_timings.append((time.perf_counter() - started) * 1000)
    median = statistics.median(timings)
    weasy = statistics.median(floor_timings)
    sql = sql_floor(statements)
    return {
        "median_ms": round(median, 2),
        "queries": counts.pop(),
        "runs": RUNS,
        "lines": PDF_LINES,
        "floor_weasyprint_ms": round(weasy, 2),
        "floor_sql_ms": round(sql, 2),
        "floor_ms": round(weasy + sql, 2),
        "ratio": round(median / (weasy + sql), 2),
    }
