"""A biller exports the invoices of two chosen clients from the Billing page: the export is
too big to download at once, so its page shows it waiting, then (a real Celery worker
having started) its progress reaching done without a reload, and the download link gives
the ZIP. Every state passes axe under the strict CSP."""

from __future__ import annotations

import uuid
import zipfile
from unittest import mock

import pytest
from celery.contrib.testing.worker import start_worker
from playwright.sync_api import Page, expect

from billing.documents import export as export_module
from practice.celery import app as celery_app
from tests.e2e.helpers import assert_accessible, pick, sign_in
from tests.factories import ClientFactory, issued_invoice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def export_queue():
    """Exports go to a queue of this test's own, read by no worker until the test starts one."""
    queue = f"test-practica-{uuid.uuid4().hex[:12]}"
    previous_routes = celery_app.conf.task_routes
    celery_app.conf.task_always_eager = False
    celery_app.conf.update(task_routes={"billing.tasks.export_run": {"queue": queue}})
    try:
        yield queue
    finally:
        celery_app.conf.update(task_routes=previous_routes)
        with celery_app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)


def test_biller_exports_chosen_clients_and_downloads_the_zip(
    page: Page, tenant, export_queue, console_errors, tmp_path
):
    practice = tenant.practice
    ana = ClientFactory(practice=practice, first_name="Ana", last_name="Lima")
    bruno = ClientFactory(practice=practice, first_name="Bruno", last_name="Costa")
    cleo = ClientFactory(practice=practice, first_name="Cleo", last_name="Reis")
    wanted = [issued_invoice(practice, client, tenant.biller, "120.00") for client in (ana, bruno, ana, bruno)]
    issued_invoice(practice, cleo, tenant.biller, "90.00")

    # Given the biller on the Billing page
    sign_in(page, tenant.biller.email)
    page.goto(f"/p/{practice.slug}/billing/")
    page.get_by_role("link", name="Export invoices").click()
    expect(page.get_by_role("heading", name="Export invoices")).to_be_visible()
    assert_accessible(page, "export form")

    # When she exports Ana's and Bruno's invoices (more than download at once here)
    pick(page, "Clients", "Lim", "Ana Lima")
    pick(page, "Clients", "Cos", "Bruno Costa")
    page.get_by_label("ZIP of PDFs (one per document)").check()
    with mock.patch("billing.views.exports.INLINE_LIMIT", 2), mock.patch.object(export_module, "BATCH", 1):
        page.get_by_role("button", name="Export", exact=True).click()

        # Then the export's page shows it waiting for a worker
        progress = page.get_by_test_id("export-progress")
        expect(progress).to_contain_text("0 of 4 documents, waiting for a worker")
        expect(progress.get_by_role("progressbar", name="Documents rendered")).to_be_visible()
        assert_accessible(page, "export queued")

        # and once a worker runs, the page follows it to done by itself
        with start_worker(celery_app, pool="solo", perform_ping_check=False, queues=[export_queue]):
            expect(progress).to_have_attribute("data-status", "done", timeout=60_000)
    expect(progress).to_contain_text("4 documents ready.")
    assert_accessible(page, "export done")

    # And the download is the ZIP of their four invoices
    with page.expect_download() as download_info:
        progress.get_by_role("link", name="Download").click()
    download = download_info.value
    assert download.suggested_filename.startswith("invoices-") and download.suggested_filename.endswith(".zip")
    saved = tmp_path / "export.zip"
    download.save_as(saved)
    numbers = sorted(i.number for i in wanted)
    assert zipfile.ZipFile(saved).namelist() == [f"invoice-{n}.pdf" for n in numbers]
    assert console_errors == []
