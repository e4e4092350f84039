"""Settings > Invoice template: the owner (or an admin) sets the logo, theme colour,
layout and what invoices print; a logo is judged by its content, resized and stored as
PNG, and a refused one leaves the previous logo in place; the preview follows the form
without saving anything."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from practice.images import LOGO_MAX_BYTES, LOGO_NOT_AN_IMAGE, LOGO_TOO_LARGE
from practice.models import AuditLog, InvoiceTemplate
from tests.helpers import signed_in, url

FORM = {
    "theme_colour": "#7a1f5c",
    "layout": "banner",
    "display_name": "Harbour Street Therapy Ltd",
    "address": "12 Harbour Street\r\nPort Town 4001",
    "tax_id": "GST 123-456-789",
    "footer": "Thank you.",
    "payment_instructions": "Bank transfer to 12-3456-7890123-00.",
}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def image_file(fmt: str = "PNG", size=(1200, 800), name: str | None = None) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 40)).save(buffer, format=fmt)
    return SimpleUploadedFile(name or f"logo.{fmt.lower()}", buffer.getvalue(), content_type=f"image/{fmt.lower()}")


def save(browser, tenant, **extra):
    return browser.post(url(tenant, "billing:invoice_template"), {**FORM, **extra})


def stored_logo(tenant) -> Path:
    return Path(InvoiceTemplate.objects.get(practice=tenant.practice).logo.path)


def test_owner_sees_the_page_with_a_preview_of_the_defaults(tenant):
    response = signed_in(tenant.owner).get(url(tenant, "billing:invoice_template"))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="invoice-preview"' in page
    assert 'data-theme-colour="#1f5f8b"' in page
    assert "Harbour Street Therapy" in page and "Sample Client" in page
    assert not InvoiceTemplate.objects.exists()  # a read writes nothing


@pytest.mark.parametrize("role", ["biller", "clinician"])
def test_billers_and_clinicians_may_not_change_the_template(tenant, role):
    browser = signed_in(tenant.member(role))

    assert browser.get(url(tenant, "billing:invoice_template")).status_code == 403
    assert save(browser, tenant).status_code == 403
    assert browser.post(url(tenant, "billing:invoice_template_preview"), FORM).status_code == 403
    assert not InvoiceTemplate.objects.exists()


def test_admin_saves_the_template_and_the_change_is_audited(tenant):
    response = save(signed_in(tenant.admin), tenant)

    assert response.status_code == 302
    template = InvoiceTemplate.objects.get(practice=tenant.practice)
    assert (template.theme_colour, template.layout, template.tax_id) == ("#7a1f5c", "banner", "GST 123-456-789")
    assert template.payment_instructions == "Bank transfer to 12-3456-7890123-00."
    row = AuditLog.objects.get(action="practice.invoice_template_changed")
    assert row.changes["theme_colour"] == ["#1f5f8b", "#7a1f5c"]


def test_an_invalid_colour_is_refused_with_a_message(tenant):
    response = save(signed_in(tenant.owner), tenant, theme_colour="red; background: url(x)")

    assert response.status_code == 400
    assert "Enter a colour such as #1f5f8b." in response.content.decode()
    assert not InvoiceTemplate.objects.exists()


def test_a_png_logo_is_resized_and_stored_as_png(tenant, media):
    response = save(signed_in(tenant.owner), tenant, logo=image_file("PNG", (1200, 800)))

    assert response.status_code == 302
    path = stored_logo(tenant)
    assert path.is_relative_to(media / "invoice-logos")
    with Image.open(path) as logo:
        assert logo.format == "PNG"
        assert logo.size == (360, 240)  # fits 600 x 240, proportions kept


def test_a_jpeg_logo_is_accepted_and_re_encoded_as_png(tenant):
    save(signed_in(tenant.owner), tenant, logo=image_file("JPEG", (300, 100)))

    with Image.open(stored_logo(tenant)) as logo:
        assert (logo.format, logo.size) == ("PNG", (300, 100))


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("logo.png", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/png"), LOGO_NOT_AN_IMAGE),
        (lambda: image_file("GIF", name="logo.png"), LOGO_NOT_AN_IMAGE),
        (
            lambda: image_file("PNG").__class__("logo.png", image_file("PNG").read()[:200], "image/png"),
            LOGO_NOT_AN_IMAGE,
        ),
        (SimpleUploadedFile("logo.png", b"\x89PNG" + b"\0" * LOGO_MAX_BYTES, "image/png"), LOGO_TOO_LARGE),
    ],
    ids=["svg-named-png", "gif", "truncated-png", "over-2-mb"],
)
def test_a_refused_logo_keeps_the_previous_one(tenant, upload, message):
    owner = signed_in(tenant.owner)
    save(owner, tenant, logo=image_file("PNG", (300, 100)))
    before = stored_logo(tenant)

    response = save(owner, tenant, logo=upload() if callable(upload) else upload, theme_colour="#000000")

    assert response.status_code == 400
    assert message in response.content.decode()
    template = InvoiceTemplate.objects.get(practice=tenant.practice)
    assert Path(template.logo.path) == before and before.is_file()
    assert template.theme_colour == "#7a1f5c"  # nothing of the refused save was kept


def test_a_new_logo_replaces_the_old_file(tenant, django_capture_on_commit_callbacks):
    owner = signed_in(tenant.owner)
    save(owner, tenant, logo=image_file("PNG", (300, 100)))
    old = stored_logo(tenant)

    with django_capture_on_commit_callbacks(execute=True):
        save(owner, tenant, logo=image_file("PNG", (200, 100)))

    assert stored_logo(tenant) != old
    assert stored_logo(tenant).is_file() and not old.is_file()


def test_the_logo_can_be_removed(tenant):
    owner = signed_in(tenant.owner)
    save(owner, tenant, logo=image_file("PNG", (300, 100)))

    save(owner, tenant, remove_logo="on")

    assert not InvoiceTemplate.objects.get(practice=tenant.practice).logo


def test_staff_fetch_their_own_practices_logo_only(tenant, other_tenant):
    save(signed_in(tenant.owner), tenant, logo=image_file("PNG", (300, 100)))
    logo_url = url(tenant, "invoice_template_logo")

    mine = signed_in(tenant.clinician).get(logo_url)
    assert mine.status_code == 200 and mine["Content-Type"] == "image/png"
    assert b"".join(mine.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"
    # The other practice has no logo; its own staff cannot reach ours through their slug,
    # and ours cannot open theirs.
    assert signed_in(other_tenant.owner).get(url(other_tenant, "invoice_template_logo")).status_code == 404
    assert signed_in(other_tenant.owner).get(logo_url).status_code == 404


def test_the_preview_follows_the_form_without_saving(tenant):
    response = signed_in(tenant.owner).post(
        url(tenant, "billing:invoice_template_preview"), {**FORM, "footer": "Seen in the preview"}
    )

    assert response.status_code == 200
    fragment = response.content.decode()
    assert 'data-theme-colour="#7a1f5c"' in fragment and "doc-banner" in fragment
    assert "Seen in the preview" in fragment and "Harbour Street Therapy Ltd" in fragment
    assert "<html" not in fragment
    assert not InvoiceTemplate.objects.exists()


def test_the_preview_keeps_the_saved_colour_while_the_typed_one_is_invalid(tenant):
    owner = signed_in(tenant.owner)
    save(owner, tenant)

    response = owner.post(url(tenant, "billing:invoice_template_preview"), {**FORM, "theme_colour": "#12"})

    assert 'data-theme-colour="#7a1f5c"' in response.content.decode()


def test_the_settings_page_is_linked_from_settings(tenant):
    response = signed_in(tenant.owner).get(url(tenant, "settings"))

    assert url(tenant, "billing:invoice_template") in response.content.decode()
