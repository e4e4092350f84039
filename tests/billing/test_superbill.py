"""Superbills: the practice, the clinician's licence, NPI and tax id, the client's date of
birth and ICD-10 codes, and each session's date, place, service and procedure codes,
units, fee and paid are read back from the PDF; the page is not blank; the fields behind
them are edited on the staff profile, the client's settings and the service form, and a
bad ICD-10 code or NPI is refused with the reason and changes nothing."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from pypdf import PdfReader

from appointments.models import Service
from billing.models import BillingItem
from billing.services import invoice_create
from clients.models import Client
from clients.services import DIAGNOSIS_CODE_BAD, client_create, diagnosis_codes_parse
from practice.models import AuditLog, Membership
from practice.services import NPI_BAD
from tests.appointments.helpers import service_post
from tests.billing.test_documents_pdf import first_page_png, inked_share, pdf_text
from tests.clients.test_edit import form_data
from tests.factories import ClientFactory, ServiceFactory, completed_session_items, pay
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana(tenant):
    return ClientFactory(
        practice=tenant.practice,
        first_name="Ana",
        last_name="Lima",
        date_of_birth=date(1988, 7, 14),
        diagnosis_codes="F41.1, F32.0",
        clinicians=[tenant.clinician],
    )


@pytest.fixture
def sessions(tenant, ana):
    """Two sessions of Ana's with Dr clinician (licence and NPI on file), 10 and 3 days
    ago, on one invoice of 300 of which 200 is paid."""
    practice = tenant.practice
    Membership.objects.filter(practice=practice, user=tenant.clinician).update(
        licence_number="LPC-77812", npi="1234567893", tax_id="EIN 12-3456789"
    )
    service = ServiceFactory(practice=practice, name="Psychotherapy 45 min", code="PSY45", procedure_code="90834")
    completed_session_items(practice, tenant.biller, tenant.clinician, ana, service, days_ago=10)
    completed_session_items(practice, tenant.biller, tenant.clinician, ana, service, days_ago=3)
    items = BillingItem.objects.filter(client=ana).order_by("date")
    assert len(items) == 2
    invoice = invoice_create(
        practice=practice, client=ana, actor=tenant.biller, item_ids=[i.pk for i in items], issue=True
    )
    pay(practice, ana, tenant.biller, "200.00")
    return invoice


def superbill(browser, tenant, client, start: date, end: date):
    return browser.get(
        url(tenant, "billing:client_superbill", client_id=client.pk),
        {"start": start.isoformat(), "end": end.isoformat()},
    )


def test_superbill_reads_back_provider_client_codes_and_amounts(tenant, ana, sessions):
    today = tenant.practice.local_today()

    response = superbill(signed_in(tenant.biller), tenant, ana, today - timedelta(days=30), today)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="superbill-lima-ana-')
    text = pdf_text(response.content)
    assert "Superbill" in text and "Harbour Street Therapy" in text
    # The client, with date of birth and diagnosis codes
    assert "Ana Lima" in text and "14 Jul 1988" in text
    assert "Diagnosis (ICD-10) F41.1, F32.0" in text
    # The rendering clinician's identifiers
    assert "LPC-77812" in text and "NPI 1234567893" in text and "EIN 12-3456789" in text
    # Each session: date, place, codes, units, fee and what was paid of it (oldest first)
    assert text.count("PSY45 90834") == 2
    assert text.count("In person") == 2
    assert "1 $150.00 $150.00" in text and "1 $150.00 $50.00" in text
    assert "Total fees $300.00" in text and "Total paid $200.00" in text


def test_a_period_keeps_only_its_sessions(tenant, ana, sessions):
    today = tenant.practice.local_today()

    text = pdf_text(superbill(signed_in(tenant.biller), tenant, ana, today - timedelta(days=5), today).content)

    assert text.count("PSY45 90834") == 1
    assert "Total fees $150.00" in text and "Total paid $50.00" in text


def test_the_superbill_page_is_not_blank(tenant, ana, sessions, tmp_path):
    today = tenant.practice.local_today()

    data = superbill(signed_in(tenant.biller), tenant, ana, today - timedelta(days=30), today).content

    assert len(PdfReader(io.BytesIO(data)).pages) == 1
    page = first_page_png(data, tmp_path)
    assert page.size[0] > 300 and page.size[1] > 400
    assert 0.005 < inked_share(page) < 0.5


def test_the_billing_tab_links_to_the_superbill(tenant, ana):
    html = signed_in(tenant.clinician).get(url(tenant, "clients:billing", client_id=ana.pk)).content.decode()

    assert f'href="{url(tenant, "billing:client_superbill", client_id=ana.pk)}"' in html


# --- the fields behind it --------------------------------------------------------------------


def test_diagnosis_codes_are_saved_from_the_client_settings_in_one_shape(tenant, ana):
    response = signed_in(tenant.owner).post(
        url(tenant, "clients:settings", client_id=ana.pk), form_data(diagnosis_codes="f41.1; Z63.0 F41.1  S72.001A")
    )

    assert response.status_code == 302
    ana.refresh_from_db()
    assert ana.diagnosis_codes == "F41.1, Z63.0, S72.001A"


@pytest.mark.parametrize("bad", ["41.1", "F4", "F41.12345", "FF1.1", "F41..1"])
def test_a_bad_icd10_code_is_refused_with_the_reason_and_nothing_changes(tenant, ana, bad):
    before = AuditLog.objects.filter(action="client.updated").count()

    response = signed_in(tenant.owner).post(
        url(tenant, "clients:settings", client_id=ana.pk),
        form_data(first_name="Changed", diagnosis_codes=f"F32.0, {bad}"),
    )

    assert response.status_code == 400
    assert DIAGNOSIS_CODE_BAD.format(code=bad) in response.content.decode().replace("&#x27;", "'")
    ana.refresh_from_db()
    assert (ana.first_name, ana.diagnosis_codes) == ("Ana", "F41.1, F32.0")
    assert AuditLog.objects.filter(action="client.updated").count() == before


def test_the_service_refuses_a_bad_code_whatever_its_caller(tenant):
    assert diagnosis_codes_parse(" f41 , F41.1 ") == "F41, F41.1"
    with pytest.raises(ValidationError) as caught:
        client_create(practice=tenant.practice, actor=tenant.owner, first_name="A", last_name="B", diagnosis_codes="X")
    assert DIAGNOSIS_CODE_BAD.format(code="X") in str(caught.value)
    assert not Client.objects.filter(first_name="A", last_name="B").exists()


def test_the_procedure_code_is_edited_on_the_service_form(tenant):
    owner = signed_in(tenant.owner)

    response = owner.post(url(tenant, "appointments:service_new"), service_post(procedure_code=" 90837 "))

    assert response.status_code == 302
    assert Service.objects.get(practice=tenant.practice).procedure_code == "90837"


def test_the_staff_profile_holds_licence_npi_and_tax_id(tenant):
    membership = Membership.objects.get(practice=tenant.practice, user=tenant.clinician)
    owner = signed_in(tenant.owner)
    page = url(tenant, "staff_profile", membership_id=membership.pk)

    assert page in owner.get(url(tenant, "staff")).content.decode()
    saved = owner.post(page, {"licence_number": "LPC-1", "npi": "1234567893", "tax_id": ""})
    refused = owner.post(page, {"licence_number": "LPC-2", "npi": "12345", "tax_id": ""})

    assert saved.status_code == 302
    assert refused.status_code == 400 and NPI_BAD in refused.content.decode()
    membership.refresh_from_db()
    assert (membership.licence_number, membership.npi) == ("LPC-1", "1234567893")
    assert AuditLog.objects.filter(action="staff.profile_changed").count() == 1
    # Only an owner edits it; another practice's member is not found.
    assert signed_in(tenant.clinician).get(page).status_code == 403


def test_another_practices_staff_profile_is_not_found(tenant, other_tenant):
    theirs = Membership.objects.get(practice=other_tenant.practice, user=other_tenant.clinician)

    response = signed_in(tenant.owner).get(url(tenant, "staff_profile", membership_id=theirs.pk))

    assert response.status_code == 404
