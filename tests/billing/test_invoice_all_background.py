"""Invoice all uninvoiced for many clients runs in a Celery worker, not in the request
(celery runs eagerly in tests: tests/conftest.py)."""

from __future__ import annotations

from datetime import date
from unittest import mock

import pytest

from billing.models import Invoice
from billing.tasks import invoice_all_uninvoiced_task
from billing.views import home as views_home
from tests.factories import ClientFactory, make_item
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_clients(tenant):
    clients = [ClientFactory(practice=tenant.practice, first_name=name) for name in ("Ana", "Bruno", "Cleo")]
    for client in clients:
        make_item(tenant.practice, client, "100.00", on=date(2025, 1, 6))
    return clients


def test_the_task_creates_one_invoice_per_client_and_nothing_twice(tenant, three_clients):
    # When the task runs for January, issuing
    args = (tenant.practice.pk, tenant.biller.pk, "2025-01-01", "2025-01-31", True)
    assert invoice_all_uninvoiced_task.delay(*args).get() == 3
    # Then each client has one open invoice
    invoices = Invoice.objects.filter(practice=tenant.practice)
    assert sorted(i.client_id for i in invoices) == sorted(c.pk for c in three_clients)
    assert {i.status for i in invoices} == {"open"}
    # When it runs again (a redelivery), nothing more is created
    assert invoice_all_uninvoiced_task.delay(*args).get() == 0
    assert Invoice.objects.filter(practice=tenant.practice).count() == 3


def test_above_the_threshold_the_confirm_enqueues_instead_of_creating_inline(
    tenant, three_clients, django_capture_on_commit_callbacks
):
    client = signed_in(tenant.biller)
    with (
        mock.patch.object(views_home, "INVOICE_ALL_INLINE_LIMIT", 2),
        mock.patch.object(views_home, "invoice_all_uninvoiced_task") as task,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        # When the biller confirms Invoice all for 3 clients (more than the limit of 2)
        response = client.post(
            url(tenant, "billing:invoice_all"),
            {"date_from": "2025-01-01", "date_to": "2025-01-31", "mode": "issue", "apply_credit": "on"},
        )
    # Then nothing is created in the request, the task is enqueued after commit (with the
    # choice to apply each client's credit)
    assert not Invoice.objects.filter(practice=tenant.practice).exists()
    assert len(callbacks) == 1
    task.delay.assert_called_once_with(tenant.practice.pk, tenant.biller.pk, "2025-01-01", "2025-01-31", True, True)
    # and the page says the invoices are being created in the background
    html = response.content.decode()
    assert response.status_code == 200
    assert views_home.INVOICES_IN_BACKGROUND in html
    assert "being created in the background and will appear on the Invoices tab" in html


def test_above_the_threshold_the_eager_worker_creates_the_invoices(
    tenant, three_clients, django_capture_on_commit_callbacks
):
    client = signed_in(tenant.biller)
    with (
        mock.patch.object(views_home, "INVOICE_ALL_INLINE_LIMIT", 2),
        django_capture_on_commit_callbacks(execute=True),
    ):
        client.post(
            url(tenant, "billing:invoice_all"), {"date_from": "2025-01-01", "date_to": "2025-01-31", "mode": "draft"}
        )
    invoices = Invoice.objects.filter(practice=tenant.practice)
    assert invoices.count() == 3 and {i.status for i in invoices} == {"draft"}


def test_at_or_below_the_threshold_the_confirm_creates_inline(tenant, three_clients):
    with mock.patch.object(views_home, "invoice_all_uninvoiced_task") as task:
        signed_in(tenant.biller).post(
            url(tenant, "billing:invoice_all"), {"date_from": "2025-01-01", "date_to": "2025-01-31", "mode": "issue"}
        )
    task.delay.assert_not_called()
    assert Invoice.objects.filter(practice=tenant.practice).count() == 3
