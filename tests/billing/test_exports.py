"""Billing documents export: the documents of the invoices issued in a period as a ZIP of
PDFs or one combined PDF, read back with pypdf; a big export goes through the Celery task
(eager here, and once through a real worker), shows its progress and is made once."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.utils import timezone
from pypdf import PdfReader

from billing.documents import export as export_module
from billing.documents.export import (
    NOTHING_TO_EXPORT,
    RANGE_BACKWARDS,
    RANGE_TOO_LONG,
    ExportParams,
    export_run,
    exports_clean,
)
from billing.models import Export
from billing.tasks import export_run_task
from tests.factories import ClientFactory, give_credit, issued_invoice, pay
from tests.helpers import signed_in, url
from tests.workers import real_worker

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def ana(tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima")


@pytest.fixture
def bruno(tenant):
    return ClientFactory(practice=tenant.practice, first_name="Bruno", last_name="Costa")


def period(tenant) -> dict[str, str]:
    today = tenant.practice.local_today()
    return {"start": (today - timedelta(days=30)).isoformat(), "end": today.isoformat()}


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def invoices_for(tenant, client, count: int):
    return [issued_invoice(tenant.practice, client, tenant.biller, "120.00") for _ in range(count)]


def test_a_small_zip_holds_one_pdf_per_document_named_by_number(tenant, ana, bruno, biller):
    # Given two invoices of Ana (one paid), one of Bruno and a credit invoice of Ana's
    first, second = invoices_for(tenant, ana, 2)
    pay(tenant.practice, ana, tenant.biller, "120.00")  # pays the oldest
    third = invoices_for(tenant, bruno, 1)[0]
    credit = give_credit(tenant.practice, ana, tenant.biller, "30.00")
    # When the biller exports the period as a ZIP, with receipts
    response = biller.post(url(tenant, "billing:export_new"), {**period(tenant), "format": "zip", "receipts": "on"})
    # Then the ZIP downloads at once
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="invoices-')
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    # with every invoice as issued, the credit invoice, and the receipt of the paid one
    assert names == [
        f"invoice-{first.number}.pdf",
        f"receipt-{first.number}.pdf",
        f"invoice-{second.number}.pdf",
        f"invoice-{third.number}.pdf",
        f"credit-invoice-{credit.number}.pdf",
    ]
    for name, number in zip(names, [first, first, second, third, credit], strict=True):
        text = pdf_text(archive.read(name))
        assert number.number in text
    assert "PAID" in pdf_text(archive.read(f"receipt-{first.number}.pdf"))
    assert "Receipt" not in pdf_text(archive.read(f"invoice-{first.number}.pdf"))
    # and nothing was stored: a small export has no row
    assert not Export.objects.exists()


def test_the_combined_pdf_has_one_page_per_one_page_invoice(tenant, ana, bruno, biller):
    invoices = invoices_for(tenant, ana, 2) + invoices_for(tenant, bruno, 1)
    response = biller.post(url(tenant, "billing:export_new"), {**period(tenant), "format": "pdf"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 3
    for page, invoice in zip(reader.pages, invoices, strict=True):
        assert invoice.number in page.extract_text()


def test_chosen_clients_only_and_the_client_tab_exports_its_own(tenant, ana, bruno, biller):
    ana_invoice = invoices_for(tenant, ana, 1)[0]
    bruno_invoice = invoices_for(tenant, bruno, 1)[0]
    response = biller.post(
        url(tenant, "billing:export_new"), {**period(tenant), "format": "zip", "clients": [bruno.pk]}
    )
    assert zipfile.ZipFile(io.BytesIO(response.content)).namelist() == [f"invoice-{bruno_invoice.number}.pdf"]
    response = biller.post(
        url(tenant, "billing:client_export_new", client_id=ana.pk), {**period(tenant), "format": "zip"}
    )
    assert zipfile.ZipFile(io.BytesIO(response.content)).namelist() == [f"invoice-{ana_invoice.number}.pdf"]


@pytest.mark.parametrize(
    ("dates", "message"),
    [
        ({"start": "2025-03-01", "end": "2025-02-01"}, RANGE_BACKWARDS),
        ({"start": "2022-01-01", "end": "2025-01-01"}, RANGE_TOO_LONG),
        ({"start": "2020-01-01", "end": "2020-12-31"}, NOTHING_TO_EXPORT.format(whom="")),
    ],
)
def test_bad_input_is_refused_with_a_message_and_changes_nothing(tenant, ana, biller, dates, message):
    invoices_for(tenant, ana, 1)
    response = biller.post(url(tenant, "billing:export_new"), {**dates, "format": "zip"})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Export.objects.exists()


def test_clinicians_are_refused(tenant, ana):
    clinician = signed_in(tenant.clinician)
    assert clinician.get(url(tenant, "billing:export_new")).status_code == 403
    assert clinician.post(url(tenant, "billing:export_new"), {**period(tenant), "format": "zip"}).status_code == 403
    export = Export.objects.create(practice=tenant.practice, params={}, filename="x.zip")
    assert clinician.get(url(tenant, "billing:export", export_id=export.pk)).status_code == 403
    assert clinician.get(url(tenant, "billing:export_download", export_id=export.pk)).status_code == 403


def big_export(tenant, biller, django_capture_on_commit_callbacks, **data):
    with (
        mock.patch.object(export_module, "INLINE_LIMIT", 2),
        mock.patch("billing.views.exports.INLINE_LIMIT", 2),
        mock.patch.object(export_module, "BATCH", 2),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = biller.post(url(tenant, "billing:export_new"), {**period(tenant), **data})
    assert response.status_code == 302, response.content.decode()[:2000]
    return Export.objects.get(), response


@pytest.mark.parametrize("fmt", ["zip", "pdf"])
def test_a_large_export_runs_in_the_task_and_ends_done(tenant, ana, biller, django_capture_on_commit_callbacks, fmt):
    invoices = invoices_for(tenant, ana, 5)
    # When the biller exports more than the inline limit (the task runs eagerly on commit)
    export, response = big_export(tenant, biller, django_capture_on_commit_callbacks, format=fmt)
    assert response["Location"] == url(tenant, "billing:export", export_id=export.pk)
    # Then the export is done, every document counted
    assert (export.status, export.done, export.total) == ("done", 5, 5)
    assert export.requested_by == tenant.biller and export.finished_at is not None
    # and its page (and the polled panel) show the download link, without polling any more
    page = biller.get(response["Location"]).content.decode()
    assert "Download invoices-" in page and "every 1s" not in page
    panel = biller.get(url(tenant, "billing:export_progress", export_id=export.pk)).content.decode()
    assert 'data-status="done"' in panel and "every 1s" not in panel
    download = biller.get(url(tenant, "billing:export_download", export_id=export.pk))
    assert download.status_code == 200
    data = b"".join(download.streaming_content)
    if fmt == "zip":
        archive = zipfile.ZipFile(io.BytesIO(data))
        assert archive.namelist() == [f"invoice-{i.number}.pdf" for i in invoices]
        text = "\n".join(pdf_text(archive.read(n)) for n in archive.namelist())
    else:
        assert len(PdfReader(io.BytesIO(data)).pages) == 5
        text = pdf_text(data)
    for invoice in invoices:
        assert invoice.number in text


def test_progress_is_shown_while_running(tenant, ana, biller):
    invoices_for(tenant, ana, 3)
    params = ExportParams(start=tenant.practice.local_today() - timedelta(days=3), end=tenant.practice.local_today())
    export = Export.objects.create(
        practice=tenant.practice, params=params.to_json(), total=3, done=1, status="running", filename="x.zip"
    )
    panel = biller.get(url(tenant, "billing:export_progress", export_id=export.pk)).content.decode()
    assert 'hx-trigger="every 1s"' in panel
    assert "1 of 3 documents" in panel and 'value="1"' in panel
    assert "Start again" not in panel


def test_running_the_task_twice_makes_the_file_once(tenant, ana, media):
    invoices_for(tenant, ana, 3)
    params = ExportParams(start=tenant.practice.local_today() - timedelta(days=3), end=tenant.practice.local_today())
    export = Export.objects.create(practice=tenant.practice, params=params.to_json(), total=3, filename="x.zip")
    export_run_task.delay(export.pk)
    export.refresh_from_db()
    first_file, finished = export.file, export.finished_at
    assert export.status == "done" and (media / first_file).is_file()
    # When the task runs again (a redelivery), the done export is left as it is
    export_run_task.delay(export.pk)
    export.refresh_from_db()
    assert (export.file, export.finished_at) == (first_file, finished)
    assert [p.name for p in (media / "exports").rglob("*") if p.is_file()] == [Path(first_file).name]


def test_a_run_that_loses_the_race_throws_its_copy_away(tenant, ana, media):
    invoices_for(tenant, ana, 2)
    params = ExportParams(start=tenant.practice.local_today() - timedelta(days=3), end=tenant.practice.local_today())
    export = Export.objects.create(practice=tenant.practice, params=params.to_json(), total=2, filename="x.zip")
    real_writer = export_module.write_zip

    def slow_writer(documents, out, progress=None):
        # While this run writes, another run (a redelivery) finishes the export.
        count = real_writer(documents, out, progress)
        Export.objects.filter(pk=export.pk).update(status="done", file="exports/other.zip")
        return count

    with mock.patch.object(export_module, "write_zip", slow_writer):
        export_run(export.pk)
    export.refresh_from_db()
    assert export.file == "exports/other.zip"
    assert not [p for p in (media / "exports").rglob("*") if p.is_file()]


def test_a_killed_export_can_be_started_again_from_its_page(tenant, ana, biller, django_capture_on_commit_callbacks):
    invoices_for(tenant, ana, 2)
    params = ExportParams(start=tenant.practice.local_today() - timedelta(days=3), end=tenant.practice.local_today())
    # A run that was killed: running, its progress still for ten minutes
    export = Export.objects.create(
        practice=tenant.practice,
        params=params.to_json(),
        total=2,
        done=1,
        status="running",
        filename="x.zip",
        updated_at=timezone.now() - timedelta(minutes=10),
    )
    page = biller.get(url(tenant, "billing:export", export_id=export.pk)).content.decode()
    assert "has not moved for several minutes" in page and "Start again" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = biller.post(url(tenant, "billing:export_start_again", export_id=export.pk))
    assert response.status_code == 302
    export.refresh_from_db()
    assert (export.status, export.done, export.total) == ("done", 2, 2)


def test_a_failed_export_says_why(tenant, ana, biller):
    invoices_for(tenant, ana, 1)
    params = ExportParams(start=tenant.practice.local_today() - timedelta(days=3), end=tenant.practice.local_today())
    export = Export.objects.create(practice=tenant.practice, params=params.to_json(), total=1, filename="x.zip")
    with mock.patch.object(export_module, "write_zip", side_effect=OSError("disk full")):
        export_run(export.pk)
    export.refresh_from_db()
    assert export.status == "failed" and "disk full" in export.error
    page = biller.get(url(tenant, "billing:export", export_id=export.pk)).content.decode()
    assert "disk full" in page and "Start again" in page


def test_another_practices_export_is_404(tenant, other_tenant, ana, media):
    other = Export.objects.create(
        practice=other_tenant.practice, params={}, status="done", file="exports/x.zip", filename="x.zip"
    )
    (media / "exports").mkdir(parents=True)
    (media / "exports" / "x.zip").write_bytes(b"PK")
    owner = signed_in(tenant.owner)
    for name in ("billing:export", "billing:export_progress", "billing:export_download"):
        assert owner.get(url(tenant, name, export_id=other.pk)).status_code == 404
    assert owner.post(url(tenant, "billing:export_start_again", export_id=other.pk)).status_code == 404
    # while its own practice's owner downloads it
    assert (
        signed_in(other_tenant.owner).get(url(other_tenant, "billing:export_download", export_id=other.pk)).status_code
        == 200
    )


def test_old_exports_are_cleaned_with_their_files(tenant, media):
    (media / "exports").mkdir(parents=True)
    old = Export.objects.create(
        practice=tenant.practice, params={}, status="done", file="exports/old.zip", filename="old.zip"
    )
    Export.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    (media / "exports" / "old.zip").write_bytes(b"PK")
    new = Export.objects.create(
        practice=tenant.practice, params={}, status="done", file="exports/new.zip", filename="new.zip"
    )
    (media / "exports" / "new.zip").write_bytes(b"PK")
    assert exports_clean() == 1
    assert list(Export.objects.values_list("pk", flat=True)) == [new.pk]
    assert sorted(p.name for p in (media / "exports").iterdir()) == ["new.zip"]


@pytest.fixture
def worker():
    """A real Celery worker (tests/workers.py), on a queue of its own."""
    with real_worker("billing.tasks.export_run") as running:
        yield running


@pytest.mark.django_db(transaction=True)
def test_a_large_export_through_the_real_worker(tenant, worker, media):
    import time

    ana = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima")
    invoices = invoices_for(tenant, ana, 3)
    biller = signed_in(tenant.biller)
    with mock.patch("billing.views.exports.INLINE_LIMIT", 2):
        response = biller.post(url(tenant, "billing:export_new"), {**period(tenant), "format": "zip"})
    assert response.status_code == 302
    export = Export.objects.get()
    deadline = time.monotonic() + 60
    while export.status != "done" and time.monotonic() < deadline:
        time.sleep(0.2)
        export.refresh_from_db()
    assert (export.status, export.done, export.total) == ("done", 3, 3)
    archive = zipfile.ZipFile(media / export.file)
    assert archive.namelist() == [f"invoice-{i.number}.pdf" for i in invoices]


def test_reading_the_documents_takes_the_same_queries_for_more_invoices(tenant, ana, bruno):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from billing.documents.export import export_documents, export_plan

    def queries_for_export() -> int:
        today = tenant.practice.local_today()
        plan = export_plan(tenant.practice, ExportParams(start=today - timedelta(days=3), end=today, receipts=True))
        with CaptureQueriesContext(connection) as queries:
            documents = list(export_documents(tenant.practice, plan))
        assert len(documents) == len(plan)
        return len(queries)

    invoices_for(tenant, ana, 1)
    few = queries_for_export()
    invoices_for(tenant, ana, 4)
    invoices_for(tenant, bruno, 4)
    pay(tenant.practice, ana, tenant.biller, "240.00")
    assert queries_for_export() == few


def test_a_combined_pdf_over_its_cap_is_refused_and_a_zip_of_the_same_period_is_not(tenant, ana, biller, monkeypatch):
    monkeypatch.setattr(export_module, "COMBINED_MAX", 3)
    monkeypatch.setattr("billing.views.exports.COMBINED_MAX", 3)
    invoices_for(tenant, ana, 4)

    response = biller.post(url(tenant, "billing:export_new"), {**period(tenant), "format": "pdf"})
    assert response.status_code == 400
    assert export_module.COMBINED_TOO_BIG.format(max=3, count=4) in response.content.decode()
    assert not Export.objects.exists()

    response = biller.post(url(tenant, "billing:export_new"), {**period(tenant), "format": "zip"})
    assert response.status_code == 200
    assert len(zipfile.ZipFile(io.BytesIO(response.content)).namelist()) == 4
