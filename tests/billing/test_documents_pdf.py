"""Invoice, credit invoice and receipt PDFs: what a client reads in them is read back from
the PDF's text layer (pypdf), each kind's first page is rasterised with pdftoppm and must
not be blank, the invoice template's look reaches the paper, and nothing outside the
vendored fonts and the practice's logo is ever loaded."""

from __future__ import annotations

import io
import socket
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from billing.documents.pdf import FONTS_DIR, LocalFileRefused, LocalFilesFetcher, html_to_pdf
from billing.services import invoice_create
from practice.services import invoice_template_update
from tests.factories import ClientFactory, give_credit, issued_invoice, make_item, pay
from tests.helpers import signed_in, url

TEMPLATE = {
    "theme_colour": "#7a1f5c",
    "layout": "banner",
    "display_name": "Harbour Street Therapy Ltd",
    "address": "12 Harbour Street\nPort Town 4001",
    "tax_id": "GST 123-456-789",
    "footer": "Thank you for choosing Harbour Street.",
    "payment_instructions": "Bank transfer to 12-3456-7890123-00, reference your invoice number.",
}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def ana(tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima")


@pytest.fixture
def styled(tenant):
    return invoice_template_update(practice=tenant.practice, actor=tenant.owner, data=TEMPLATE)


def two_line_invoice(tenant, ana):
    practice = tenant.practice
    items = [
        make_item(practice, ana, "150.00", description="Individual therapy 50 min"),
        make_item(practice, ana, "80.00", description="Report writing"),
    ]
    return invoice_create(
        practice=practice, client=ana, actor=tenant.biller, item_ids=[i.pk for i in items], issue=True
    )


def download(tenant, invoice, user=None):
    response = signed_in(user or tenant.biller).get(url(tenant, "billing:invoice_pdf", invoice_id=invoice.pk))
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/pdf"
    return response


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def first_page_png(data: bytes, tmp_path: Path) -> Image.Image:
    """The first page as pdftoppm (poppler) rasterises it, at 50 dpi."""
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", "-singlefile", pdf, tmp_path / "page"], check=True
    )
    return Image.open(tmp_path / "page.png").convert("RGB")


def inked_share(image: Image.Image) -> float:
    """The share of pixels that are not white paper."""
    grey = image.convert("L")
    inked = sum(count for level, count in enumerate(grey.histogram()) if level < 200)
    return inked / (grey.width * grey.height)


def test_invoice_pdf_reads_back_number_client_lines_and_totals(tenant, ana, styled):
    invoice = two_line_invoice(tenant, ana)

    response = download(tenant, invoice)

    assert response["Content-Disposition"] == f'attachment; filename="invoice-{invoice.number}.pdf"'
    text = pdf_text(response.content)
    assert "Invoice" in text and invoice.number in text
    assert "Ana Lima" in text
    assert "Individual therapy 50 min" in text and "Report writing" in text
    assert "$150.00" in text and "$80.00" in text
    assert "Total $230.00" in text
    assert "Balance due $230.00" in text
    # The invoice template's letterhead and words
    assert "Harbour Street Therapy Ltd" in text and "Tax id GST 123-456-789" in text
    assert "Bank transfer to 12-3456-7890123-00" in text
    assert "Thank you for choosing Harbour Street." in text
    assert "PAID" not in text


def test_a_paid_invoice_is_a_receipt_that_shows_paid_and_its_payments(tenant, ana, styled):
    invoice = two_line_invoice(tenant, ana)
    pay(tenant.practice, ana, tenant.biller, "200.00", reference="R-77")
    pay(tenant.practice, ana, tenant.biller, "30.00")

    response = download(tenant, invoice)

    assert response["Content-Disposition"] == f'attachment; filename="receipt-{invoice.number}.pdf"'
    text = pdf_text(response.content)
    assert "Receipt" in text and invoice.number in text and "PAID" in text
    assert "Cash · R-77 $200.00" in text
    assert "$30.00" in text
    assert "Amount paid -$230.00" in text
    assert "Balance due $0.00" in text
    # Nothing is left to pay, so the receipt does not ask for a bank transfer.
    assert "Bank transfer to" not in text


def test_credit_invoice_pdf_reads_back_its_credit(tenant, ana, styled):
    credit = give_credit(tenant.practice, ana, tenant.biller, "30.00", reason="Missed session refunded")

    response = download(tenant, credit)

    assert response["Content-Disposition"] == f'attachment; filename="credit-invoice-{credit.number}.pdf"'
    text = pdf_text(response.content)
    assert "Credit invoice" in text and credit.number in text and "Ana Lima" in text
    assert "Goodwill credit" in text and "Missed session refunded" in text
    assert "Credit $30.00" in text
    assert "PAID" not in text


@pytest.mark.parametrize("kind", ["invoice", "credit", "receipt"])
def test_each_kind_of_document_renders_a_page_that_is_not_blank(tenant, ana, tmp_path, kind):
    if kind == "credit":
        invoice = give_credit(tenant.practice, ana, tenant.biller, "30.00")
    else:
        invoice = issued_invoice(tenant.practice, ana, tenant.biller, "120.00")
        if kind == "receipt":
            pay(tenant.practice, ana, tenant.biller, "120.00")

    data = download(tenant, invoice).content

    assert len(PdfReader(io.BytesIO(data)).pages) == 1
    page = first_page_png(data, tmp_path)
    assert page.size[0] > 300 and page.size[1] > 400  # an A4 page at 50 dpi
    # Text, rules and the heading put ink on a real share of the page, but far from all.
    assert 0.005 < inked_share(page) < 0.5


def test_theme_colour_and_banner_layout_reach_the_paper(tenant, ana, styled, tmp_path):
    invoice = issued_invoice(tenant.practice, ana, tenant.biller, "120.00")

    page = first_page_png(download(tenant, invoice).content, tmp_path)

    # The banner is a band of #7a1f5c = (122, 31, 92) across the top of the page.
    colours = page.crop((0, 0, page.width, page.height // 5)).getcolors(maxcolors=100_000)
    banner = sum(count for count, rgb in colours if all(abs(a - b) <= 6 for a, b in zip(rgb, (122, 31, 92))))
    assert banner > page.width * 20


def test_the_logo_is_printed_on_the_pdf(tenant, ana):
    buffer = io.BytesIO()
    Image.new("RGB", (300, 100), (10, 120, 40)).save(buffer, format="PNG")
    buffer.seek(0)
    invoice_template_update(practice=tenant.practice, actor=tenant.owner, data=TEMPLATE, logo=buffer)
    invoice = issued_invoice(tenant.practice, ana, tenant.biller, "120.00")

    reader = PdfReader(io.BytesIO(download(tenant, invoice).content))

    images = reader.pages[0].images
    assert len(images) == 1
    assert images[0].image.size == (300, 100)


def test_the_pdf_uses_the_vendored_fonts(tenant, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.biller, "120.00")

    reader = PdfReader(io.BytesIO(download(tenant, invoice).content))

    fonts = reader.pages[0]["/Resources"]["/Font"]
    names = {str(font.get_object()["/BaseFont"]).split("+", 1)[-1] for font in fonts.values()}
    assert names == {"Practica-Sans", "Practica-Sans-Bold"}


def test_another_practices_invoice_pdf_is_not_found(tenant, other_tenant):
    theirs = ClientFactory(practice=other_tenant.practice, first_name="Ana", last_name="Lima")
    invoice = issued_invoice(other_tenant.practice, theirs, other_tenant.biller, "120.00")

    response = signed_in(tenant.biller).get(url(tenant, "billing:invoice_pdf", invoice_id=invoice.pk))

    assert response.status_code == 404


def test_a_clinician_cannot_download_the_pdf_of_another_clinicians_client(tenant, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.biller, "120.00")

    response = signed_in(tenant.clinician).get(url(tenant, "billing:invoice_pdf", invoice_id=invoice.pk))

    assert response.status_code == 404


def test_the_pdf_answers_get_only(tenant, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.biller, "120.00")

    response = signed_in(tenant.biller).post(url(tenant, "billing:invoice_pdf", invoice_id=invoice.pk))

    assert response.status_code == 405


@pytest.mark.parametrize(
    "address",
    [
        "http://127.0.0.1:9/logo.png",
        "https://fonts.example/face.woff2",
        "ftp://example.com/x.css",
        "data:image/png;base64,iVBORw0KGgo=",
        "file:///etc/hostname",
        "file://otherhost/" + str(FONTS_DIR / "LiberationSans-Regular.ttf"),
        (FONTS_DIR / ".." / ".." / "models.py").resolve().as_uri(),
    ],
)
def test_the_fetcher_refuses_anything_but_the_fonts_and_logos(address):
    with pytest.raises(LocalFileRefused):
        LocalFilesFetcher().fetch(address)


def test_the_fetcher_reads_the_vendored_fonts():
    response = LocalFilesFetcher().fetch((FONTS_DIR / "LiberationSans-Regular.ttf").as_uri())

    assert response.read()[:4] == b"\x00\x01\x00\x00"  # a TrueType font


def test_rendering_a_document_that_names_remote_files_opens_no_connection(monkeypatch):
    attempts = []

    def refuse(self, address):
        attempts.append(address)
        raise OSError("no network in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    html = (
        '<link rel="stylesheet" href="http://127.0.0.1:9/remote.css">'
        '<style>@import url("https://fonts.example/face.css");</style>'
        '<p>Invoice INV-0042</p><img src="http://127.0.0.1:9/logo.png" alt="">'
    )

    data = html_to_pdf(html)

    assert attempts == []
    assert "Invoice INV-0042" in pdf_text(data)
