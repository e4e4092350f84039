"""Owner-only pages are a 403 page for other roles; the audit log is for owner and admin
(issue 3 part 7 and part 10)."""

from __future__ import annotations

import pytest

from practice.access import ROLE_REFUSED
from practice.models import Practice, Role
from tests.helpers import signed_in, url
from tests.practice.helpers import page_text

pytestmark = pytest.mark.django_db

OWNER_ONLY_PAGES = ["settings_practice", "staff", "billing:invoice_numbering"]
CANT_OPEN = "You can't open this page"


@pytest.mark.parametrize("page", OWNER_ONLY_PAGES)
def test_the_owner_opens_owner_only_pages(tenant, page):
    response = signed_in(tenant.owner).get(url(tenant.practice, page))
    assert response.status_code == 200


@pytest.mark.parametrize("role", [Role.ADMIN, Role.BILLER, Role.CLINICIAN])
@pytest.mark.parametrize("page", OWNER_ONLY_PAGES)
def test_other_roles_get_a_403_page_that_says_so(tenant, page, role):
    response = signed_in(tenant.member(role)).get(url(tenant.practice, page))
    assert response.status_code == 403
    text = page_text(response)
    assert CANT_OPEN in text
    assert ROLE_REFUSED in text
    assert "It is open to: owner." in text
    # The refusal is still a page of the practice, with the way back
    assert "Back to the dashboard" in text


@pytest.mark.parametrize("role", [Role.ADMIN, Role.BILLER, Role.CLINICIAN])
def test_other_roles_cannot_change_practice_settings_by_posting(tenant, role):
    response = signed_in(tenant.member(role)).post(
        url(tenant.practice, "settings_practice"),
        {"name": "Taken Over", "timezone": "UTC", "session_idle_minutes": "480"},
    )
    assert response.status_code == 403
    assert Practice.objects.get(pk=tenant.practice.pk).name == "Harbour Street Therapy"


@pytest.mark.parametrize("role", [Role.ADMIN, Role.BILLER, Role.CLINICIAN])
def test_other_roles_cannot_change_payment_settings_by_posting(tenant, role):
    response = signed_in(tenant.member(role)).post(
        url(tenant.practice, "billing:invoice_numbering"),
        {"payment_terms_days": "0", "invoice_prefix": "HACK-", "invoice_start_number": "1"},
    )
    assert response.status_code == 403
    assert Practice.objects.get(pk=tenant.practice.pk).invoice_prefix == "INV-"


@pytest.mark.parametrize(
    "role,status",
    [
        (Role.OWNER, 200),
        (Role.ADMIN, 200),
        (Role.BILLER, 403),
        (Role.CLINICIAN, 403),
    ],
)
def test_the_audit_log_is_open_to_owner_and_admin_only(tenant, role, status):
    response = signed_in(tenant.member(role)).get(url(tenant.practice, "audit_log"))
    assert response.status_code == status
    if status == 403:
        assert CANT_OPEN in page_text(response)
        assert "It is open to: owner, admin." in page_text(response)
    else:
        assert "<h1>Audit log</h1>" in page_text(response)


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.BILLER, Role.CLINICIAN])
def test_every_role_opens_its_own_security_page(tenant, role):
    assert signed_in(tenant.member(role)).get(url(tenant.practice, "security")).status_code == 200


def test_settings_lists_only_the_sections_a_role_may_open(tenant):
    owner = page_text(signed_in(tenant.owner).get(url(tenant.practice, "settings")))
    clinician = page_text(signed_in(tenant.clinician).get(url(tenant.practice, "settings")))
    for label in ("Practice", "Staff", "Invoice numbering and terms", "Audit log", "Security"):
        assert f"<strong>{label}</strong>" in owner
    for label in ("Practice", "Staff", "Invoice numbering and terms", "Audit log"):
        assert f"<strong>{label}</strong>" not in clinician
    assert "<strong>Security</strong>" in clinician


def test_a_role_is_per_practice(tenant, other_tenant):
    # Given the other practice's owner is a biller here
    from practice.models import Membership

    Membership.objects.create(user=other_tenant.owner, practice=tenant.practice, role=Role.BILLER)
    client = signed_in(other_tenant.owner)
    # Then she is an owner there and a biller here
    assert client.get(url(other_tenant.practice, "staff")).status_code == 200
    assert client.get(url(tenant.practice, "staff")).status_code == 403
