"""Billing documents export: the PDFs of the invoices and credit invoices issued in a
period (for every client, a chosen few, or one), as a ZIP of one PDF per document or as
one combined PDF.

``export_plan`` says which documents an export holds; a small one (``INLINE_LIMIT``
documents or fewer) is rendered in the request by ``export_render``. A bigger one is an
``Export`` row run by the Celery task ``billing.tasks.export_run`` through ``export_run``
here: it renders in batches of ``BATCH`` documents, writing progress to the row after
each, into a temporary file that becomes the export's file only when the whole of it is
written. It is safe to run twice: a done export is left alone, and two runs racing (a
redelivery while the first still works) each write their own temporary file, the first
to finish sets the export's file and the other throws its copy away. A run killed part
way leaves the row running; the next run (Celery's redelivery, or Start again on the
export's page once its progress has stood still for ``STALE_AFTER``) starts it over.

Old exports are removed, row and file, ``KEEP_DAYS`` after they were asked for:
``exports_clean`` runs each time a practice starts an export (its own old ones) and as
the task ``billing.tasks.exports_clean`` (every practice's), which beat may run daily.
"""

from __future__ import annotations

import io
import logging
import os
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from practice import selectors as practice_selectors
from practice.dates import day_label
from practice.models import InvoiceTemplate, Practice

from ..models import Export, Invoice, InvoiceLine, PaymentAllocation
from .content import Document, DocumentKind, document_kind, invoice_document

logger = logging.getLogger(__name__)

# Error messages a user sees (tests assert on them).
RANGE_BACKWARDS = "The start of the period must be on or before its end."
RANGE_TOO_LONG = "Choose a period of at most two years."
NOTHING_TO_EXPORT = "No invoices or credit invoices were issued in that period{whom}. Nothing was exported."
RENDER_FAILED = "The export could not be finished: {error}"
MAX_RANGE_DAYS = 731  # two years, a leap day included
# A combined PDF keeps every laid-out document in memory until it is written (a ZIP writes
# each as it goes), so it is capped; about 1 MB of layout a document.
COMBINED_MAX = 1000
COMBINED_TOO_BIG = (
    "A combined PDF holds at most {max:,} documents and that period has {count:,}. "
    "Choose a ZIP of PDFs, or a shorter period."
)

# Up to this many documents are rendered in the request (about 0.1 s each); more go to a
# worker, well away from the web server's timeout.
INLINE_LIMIT = 20
# Documents rendered between two progress updates (and held at once by the query).
BATCH = 25
# A running export whose progress has not moved for this long was killed (a batch takes
# a few seconds): its page offers to start it again.
STALE_AFTER = timedelta(minutes=5)
KEEP_DAYS = 7
FOLDER = "exports"


class Format:
    ZIP = "zip"
    PDF = "pdf"
    CHOICES = [(ZIP, "ZIP of PDFs (one per document)"), (PDF, "One combined PDF")]


@dataclass(frozen=True)
class ExportParams:
    """What an export holds: documents of the invoices and credit invoices issued from
    ``start`` to ``end`` (both included) for ``client_ids`` (None: every client), plus a
    receipt for each paid invoice when ``receipts``; as a ZIP or one PDF (``format``)."""

    start: date
    end: date
    format: str = Format.ZIP
    receipts: bool = False
    client_ids: tuple[int, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "format": self.format,
            "receipts": self.receipts,
            "client_ids": list(self.client_ids) if self.client_ids is not None else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExportParams:
        ids = data.get("client_ids")
        return cls(
            start=date.fromisoformat(data["start"]),
            end=date.fromisoformat(data["end"]),
            format=data.get("format", Format.ZIP),
            receipts=bool(data.get("receipts")),
            client_ids=tuple(ids) if ids is not None else None,
        )

    @property
    def download_name(self) -> str:
        return f"invoices-{self.start.isoformat()}-to-{self.end.isoformat()}.{self.format}"


def range_check(start: date, end: date) -> None:
    if start > end:
        raise ValidationError({"start": RANGE_BACKWARDS})
    if (end - start).days >= MAX_RANGE_DAYS:
        raise ValidationError({"start": RANGE_TOO_LONG})


# One document of an export: an invoice's id and whether it is that invoice's receipt.
Planned = tuple[int, bool]


def _issued(practice: Practice, params: ExportParams) -> Any:
    invoices = Invoice.objects.filter(
        practice=practice, issue_date__gte=params.start, issue_date__lte=params.end
    ).exclude(status=Invoice.Status.DRAFT)
    if params.client_ids is not None:
        invoices = invoices.filter(client_id__in=params.client_ids)
    return invoices


def export_plan(practice: Practice, params: ExportParams) -> list[Planned]:
    """The documents of the export in the order they are written: by invoice number, each
    invoice (or credit invoice) followed by its receipt when receipts are asked for and it
    is paid. A void invoice is included, stamped VOID: its number is part of the run."""
    rows = _issued(practice, params).order_by("sequence", "id").values_list("id", "kind", "status", "written_off")
    plan: list[Planned] = []
    for pk, kind, status, written_off in rows:
        plan.append((pk, False))
        if params.receipts and kind == Invoice.Kind.INVOICE and status == Invoice.Status.PAID and written_off == 0:
            plan.append((pk, True))
    return plan


def _invoices(practice: Practice, ids: Iterable[int]) -> dict[int, Invoice]:
    rows = (
        Invoice.objects.filter(practice=practice, pk__in=list(ids))
        .select_related("practice", "client", "client__payer")
        .prefetch_related(
            Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "id")),
            Prefetch(
                "allocations",
                queryset=PaymentAllocation.objects.select_related("payment").order_by("payment__received_on", "id"),
            ),
        )
    )
    return {invoice.pk: invoice for invoice in rows}


def _as_issued(document: Document, invoice: Invoice) -> Document:
    """A paid invoice reads as its receipt on the invoice page; in an export it is the
    invoice as issued (with what was paid and its zero balance), and its receipt is a
    document of its own."""
    dates = [("Issue date", day_label(invoice.issue_date))] if invoice.issue_date else []
    if invoice.due_date:
        dates.append(("Due date", day_label(invoice.due_date)))
    return replace(document, kind=DocumentKind.INVOICE, title=DocumentKind.INVOICE.label, stamp="", dates=dates)


def export_documents(
    practice: Practice, plan: list[Planned], template: InvoiceTemplate | None = None
) -> Iterator[Document]:
    """The documents of ``plan``, read from the database ``BATCH`` invoices at a time."""
    template = template or practice_selectors.invoice_template_for(practice)
    for first in range(0, len(plan), BATCH):
        batch = plan[first : first + BATCH]
        invoices = _invoices(practice, {pk for pk, _receipt in batch})
        for pk, receipt in batch:
            invoice = invoices[pk]
            document = invoice_document(invoice, template)
            if not receipt and document_kind(invoice) == DocumentKind.RECEIPT:
                document = _as_issued(document, invoice)
            yield document


def _unique_names(documents: Iterable[Document]) -> Iterator[tuple[str, Document]]:
    seen: set[str] = set()
    for document in documents:
        name, n = document.filename, 1
        while name in seen:  # two voided drafts have no number, say
            n += 1
            name = document.filename.removesuffix(".pdf") + f"-{n}.pdf"
        seen.add(name)
        yield name, document


Progress = Callable[[int], None]


def write_zip(documents: Iterable[Document], out: Any, progress: Progress | None = None) -> int:
    """One PDF per document into a ZIP written to ``out`` (a path or a binary file)."""
    from .pdf import document_pdf

    count = 0
    # PDFs are compressed already: storing them saves the time of deflating them again.
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, document in _unique_names(documents):
            archive.writestr(name, document_pdf(document))
            count += 1
            if progress is not None and count % BATCH == 0:
                progress(count)
    return count


def write_combined(documents: Iterable[Document], out: Any, progress: Progress | None = None) -> int:
    """Every document's pages, in order, in one PDF written to ``out``. Each document is
    laid out by itself (as its own PDF would be) and the pages are put together once."""
    from weasyprint import HTML

    # The renderer kept per thread (fonts and stylesheet set up once): see pdf.py.
    from .pdf import BASE_URL, _renderer, document_html

    font_config, stylesheet, fetcher = _renderer.ready()
    rendered = []
    for document in documents:
        html = HTML(string=document_html(document), base_url=BASE_URL, url_fetcher=fetcher)
        rendered.append(html.render(stylesheets=[stylesheet], font_config=font_config))
        if progress is not None and len(rendered) % BATCH == 0:
            progress(len(rendered))
    if not rendered:
        raise ValueError("An export without documents")
    pages = [page for doc in rendered for page in doc.pages]
    rendered[0].copy(pages).write_pdf(out)
    return len(rendered)


def export_render(practice: Practice, params: ExportParams, plan: list[Planned]) -> bytes:
    """A small export, rendered now, as the bytes of its ZIP or PDF."""
    out = io.BytesIO()
    writer = write_zip if params.format == Format.ZIP else write_combined
    writer(export_documents(practice, plan), out)
    return out.getvalue()


# --- Exports run by the worker --------------------------------------------------------------


def export_path(name: str) -> Path:
    return Path(settings.MEDIA_ROOT) / name


def export_start(*, practice: Practice, user: Any, params: ExportParams, total: int) -> Export:
    """The row of an export the worker is to run, and the task queued once it is committed.
    The practice's exports older than KEEP_DAYS go at the same time."""
    from ..tasks import export_run_task

    with transaction.atomic():
        export = Export.objects.create(
            practice=practice,
            requested_by=user,
            params=params.to_json(),
            total=total,
            filename=params.download_name,
        )
        transaction.on_commit(lambda: export_run_task.delay(export.pk))
    exports_clean(practice=practice)
    return export


def export_is_stale(export: Export, now: datetime | None = None) -> bool:
    return export.status == Export.Status.RUNNING and (now or timezone.now()) - export.updated_at > STALE_AFTER


def export_restart(*, export: Export) -> bool:
    """Queue a failed export, or one whose run was killed, again. False if it is neither."""
    if not (export.status == Export.Status.FAILED or export_is_stale(export)):
        return False
    from ..tasks import export_run_task

    with transaction.atomic():
        Export.objects.filter(pk=export.pk).update(
            status=Export.Status.QUEUED, done=0, error="", updated_at=timezone.now()
        )
        transaction.on_commit(lambda: export_run_task.delay(export.pk))
    return True


def export_run(export_id: int) -> None:
    """Render the export ``export_id`` into its file (the Celery task's body). A done
    export, or a missing one (cleaned meanwhile), is left alone."""
    with transaction.atomic():
        export = Export.objects.select_for_update().select_related("practice").filter(pk=export_id).first()
        if export is None or export.status == Export.Status.DONE:
            return
        export.status, export.done, export.error, export.updated_at = Export.Status.RUNNING, 0, "", timezone.now()
        export.save(update_fields=["status", "done", "error", "updated_at"])
    practice = export.practice
    params = ExportParams.from_json(export.params)
    plan = export_plan(practice, params)
    name = f"{FOLDER}/{practice.pk}/{export.pk}-{uuid.uuid4().hex}.{params.format}"
    part = export_path(name + ".part")
    part.parent.mkdir(parents=True, exist_ok=True)

    def progress(done: int) -> None:
        Export.objects.filter(pk=export.pk, status=Export.Status.RUNNING).update(
            done=min(done, len(plan)), total=len(plan), updated_at=timezone.now()
        )

    try:
        if not plan:
            raise ValueError(NOTHING_TO_EXPORT.format(whom=""))
        writer = write_zip if params.format == Format.ZIP else write_combined
        with open(part, "wb") as out:
            writer(export_documents(practice, plan), out, progress)
        os.replace(part, export_path(name))
    except Exception as exc:
        part.unlink(missing_ok=True)
        logger.exception("Export %s failed", export.pk)
        Export.objects.filter(pk=export.pk).exclude(status=Export.Status.DONE).update(
            status=Export.Status.FAILED, error=RENDER_FAILED.format(error=str(exc)[:200]), finished_at=timezone.now()
        )
        return
    with transaction.atomic():
        locked = Export.objects.select_for_update().get(pk=export.pk)
        if locked.status == Export.Status.DONE:
            # Another run finished first: its file is the export's, this copy goes.
            export_path(name).unlink(missing_ok=True)
            return
        locked.status, locked.file = Export.Status.DONE, name
        locked.done = locked.total = len(plan)
        locked.finished_at = locked.updated_at = timezone.now()
        locked.save(update_fields=["status", "file", "done", "total", "finished_at", "updated_at"])


def exports_clean(*, practice: Practice | None = None, now: datetime | None = None) -> int:
    """Delete exports (rows and files) asked for more than KEEP_DAYS ago: of ``practice``,
    or of every practice. Returns how many went."""
    cutoff = (now or timezone.now()) - timedelta(days=KEEP_DAYS)
    old = Export.objects.filter(created_at__lt=cutoff)
    if practice is not None:
        old = old.filter(practice=practice)
    count = 0
    for pk, name in old.values_list("pk", "file"):
        if name:
            export_path(name).unlink(missing_ok=True)
        count += Export.objects.filter(pk=pk).delete()[0]
    return count
