"""Payment links: signed, expiring, opened without signing in; a tampered or expired link
is a clear page that names nothing of the invoice; a void invoice's link says it is no
longer payable; its Download PDF is signed too."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client as Browser
from django.utils import timezone

from billing.payment_links import payment_link_path
from billing.services import invoice_void
from billing.views.pay import LINK_EXPIRED, LINK_INVALID
from practice.services import invoice_template_update
from tests.billing.test_documents_pdf import TEMPLATE, pdf_text
from tests.factories import ClientFactory, issued_invoice

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def invoice(tenant):
    invoice_template_update(practice=tenant.practice, actor=tenant.owner, data=TEMPLATE)
    ana = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima")
    return issued_invoice(tenant.practice, ana, tenant.biller, "150.00", "80.00")


def hides_the_invoice(page: str, invoice) -> None:
    for secret in (invoice.number, "Ana", "Lima", "150.00", "230.00", "Harbour"):
        assert secret not in page


def test_the_link_opens_the_invoice_without_signing_in(invoice):
    response = Browser().get(payment_link_path(invoice))
    assert response.status_code == 200
    page = response.content.decode()
    assert invoice.number in page and "$230.00" in page
    assert page.count('data-testid="pay-line"') == 2
    assert TEMPLATE["payment_instructions"] in page
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "no-referrer"


def test_the_links_pdf_is_the_invoice(invoice):
    response = Browser().get(payment_link_path(invoice) + "pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert invoice.number in text and "230.00" in text


@pytest.mark.parametrize(
    "tamper",
    [
        lambda path: path.replace("/pay/", "/pay/x"),
        lambda path: path[:-3] + ("A/" if path[-2] != "A" else "B/"),
        lambda path: "/pay/not-a-token/",
    ],
)
def test_a_tampered_link_is_a_404_that_names_nothing(invoice, tamper):
    for suffix in ("", "pdf/"):
        response = Browser().get(tamper(payment_link_path(invoice)) + suffix)
        assert response.status_code == 404
        page = response.content.decode()
        assert LINK_INVALID in page
        hides_the_invoice(page, invoice)


def test_a_link_to_another_practices_invoice_id_is_refused(invoice, other_tenant):
    # A link signed for this invoice but naming another practice cannot be made without
    # the key; the selector also insists the two belong together.
    from django.core import signing

    from billing.payment_links import SALT

    forged = signing.dumps({"p": other_tenant.practice.pk, "i": invoice.pk}, salt=SALT, compress=True)
    response = Browser().get(f"/pay/{forged}/")
    assert response.status_code == 404
    hides_the_invoice(response.content.decode(), invoice)


def test_the_link_expires(invoice, settings):
    settings.PAYMENT_LINK_MAX_AGE_DAYS = 60
    path = payment_link_path(invoice)
    with time_machine.travel(timezone.now() + timedelta(days=59, hours=23), tick=False):
        assert Browser().get(path).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=60, minutes=1), tick=False):
        response = Browser().get(path)
        assert response.status_code == 410
        page = response.content.decode()
        assert LINK_EXPIRED in page
        hides_the_invoice(page, invoice)
        assert Browser().get(path + "pdf/").status_code == 410


def test_a_void_invoices_link_says_it_is_no_longer_payable(invoice, tenant):
    path = payment_link_path(invoice)
    invoice_void(invoice=invoice, actor=tenant.biller, reason="Entered twice")
    response = Browser().get(path)
    page = response.content.decode()
    assert "no longer payable" in page
    assert 'data-testid="pay-line"' not in page and TEMPLATE["payment_instructions"] not in page
    assert Browser().get(path + "pdf/").status_code == 404
