"""Billing documents export benchmark: 500 invoices and credit invoices exported by the
export task's body (``billing.documents.export.export_run``) called directly, not through
a worker, once as a ZIP of PDFs and once as one combined PDF (goal: at most 60 s each on
2 cores).

Figures: ``total_s`` (the ZIP's whole run: reads, rendering, writing the file, progress
updates), ``docs_per_s``, ``median_ms`` (the median time of one document within that
run, from one document handed to the writer to the next), ``queries`` (of the ZIP run),
and the same for the combined PDF (``pdf_total_s``, ``pdf_docs_per_s``,
``pdf_median_ms``). WeasyPrint is warmed up (fonts, stylesheet) before either is timed.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from unittest import mock

from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext

from billing.documents import export as export_module
from billing.documents.export import ExportParams, Format, export_plan, export_run
from billing.documents.pdf import document_pdf
from billing.models import Export, Invoice

from .data import bench_practice, bulk_invoices
from .harness import Context

DOCUMENTS = 500
# bulk_invoices makes one draft in twenty: 527 invoices hold 500 issued ones.
INVOICES = 527


def _timed_run(practice: Any, params: ExportParams, owner: Any) -> tuple[float, list[float], int]:
    export = Export.objects.create(
        practice=practice, requested_by=owner, params=params.to_json(), total=DOCUMENTS, filename="bench"
    )
    stamps: list[float] = []
    # The demo's load filled the connection's query log (it keeps 9,000): start it empty.
    reset_queries()
    real_documents = export_module.export_documents

    def stamped(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for document in real_documents(*args, **kwargs):
            stamps.append(time.perf_counter())
            yield document
        stamps.append(time.perf_counter())

    with mock.patch.object(export_module, "export_documents", stamped), CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        export_run(export.pk)
        total = time.perf_counter() - started
    export.refresh_from_db()
    if export.status != Export.Status.DONE or export.done != DOCUMENTS:
        raise RuntimeError(f"The bench export ended {export.status} at {export.done}/{export.total}: {export.error}")
    export_module.export_path(export.file).unlink(missing_ok=True)
    per_document = [(b - a) * 1000 for a, b in itertools.pairwise(stamps)]
    return total, per_document, len(queries)


def export_500_invoices(ctx: Context) -> dict[str, Any]:
    practice, clients = bench_practice(ctx.owner, "bench-export", 50)
    if not Invoice.objects.filter(practice=practice).exists():
        bulk_invoices(practice, clients, 0, INVOICES)
    today = practice.local_today()
    params = ExportParams(start=today - timedelta(days=400), end=today, format=Format.ZIP)
    plan = export_plan(practice, params)
    if len(plan) != DOCUMENTS:
        raise RuntimeError(f"The bench export holds {len(plan)} documents, not {DOCUMENTS}")
    # Warm-up: WeasyPrint's fonts and the documents' stylesheet, once per process.
    for document in export_module.export_documents(practice, plan[:3]):
        document_pdf(document)

    zip_total, zip_docs, queries = _timed_run(practice, params, ctx.owner)
    pdf_params = ExportParams(start=params.start, end=params.end, format=Format.PDF)
    pdf_total, pdf_docs, _ = _timed_run(practice, pdf_params, ctx.owner)
    return {
        "documents": DOCUMENTS,
        "runs": 1,
        "queries": queries,
        "total_s": round(zip_total, 2),
        "docs_per_s": round(DOCUMENTS / zip_total, 1),
        "median_ms": round(statistics.median(zip_docs), 2),
        "pdf_total_s": round(pdf_total, 2),
        "pdf_docs_per_s": round(DOCUMENTS / pdf_total, 1),
        "pdf_median_ms": round(statistics.median(pdf_docs), 2),
        "goal_s": 60,
    }
