"""Small things a user sees on the settings pages and the client record header: the time
zone is set in one place, a fee reads as money in the audit log, the locked first invoice
number says why it cannot change, and a long email is cut to one line with its whole
address in the title."""

from __future__ import annotations

import re

import pytest

from billing.services import INVOICE_START_LOCKED
from practice.models import Practice
from tests.appointments.helpers import details_post
from tests.factories import ClientFactory, issued_invoice
from tests.helpers import signed_in, url


@pytest.mark.django_db
def test_the_time_zone_is_set_under_practice_not_again_under_billing_details(tenant):
    owner = signed_in(tenant.owner)

    practice_page = owner.get(url(tenant, "settings_practice")).content.decode()
    billing_page = owner.get(url(tenant, "billing:billing_details")).content.decode()
    owner.post(url(tenant, "billing:billing_details"), details_post(tenant.practice, timezone="Pacific/Auckland"))

    assert 'name="timezone"' in practice_page
    assert 'name="timezone"' not in billing_page and "Practice timezone" not in billing_page
    assert Practice.objects.get(pk=tenant.practice.pk).timezone == tenant.practice.timezone


@pytest.mark.django_db
def test_a_changed_fee_reads_as_money_in_the_audit_log(tenant):
    owner = signed_in(tenant.owner)
    for fee in ("50", "40"):
        data = details_post(tenant.practice, no_show_policy="flat", no_show_fee=fee)
        owner.post(url(tenant, "billing:billing_details"), data)

    log = owner.get(url(tenant, "audit_log")).content.decode()

    assert "$50.00 → $40.00" in log and "$0.00 → $50.00" in log
    assert "50.000" not in log and "40.000" not in log


@pytest.mark.django_db
def test_the_locked_first_invoice_number_is_disabled_with_the_reason(tenant):
    ana = ClientFactory(practice=tenant.practice)
    issued_invoice(tenant.practice, ana, tenant.owner)

    html = signed_in(tenant.owner).get(url(tenant, "billing:invoice_numbering")).content.decode()

    field = re.search(r'<input[^>]*name="invoice_start_number"[^>]*>', html)
    assert field is not None and " disabled" in field.group(0)
    assert INVOICE_START_LOCKED in html


@pytest.mark.django_db
def test_a_long_email_in_the_client_header_is_one_truncated_line_with_its_title(tenant):
    email = "anastasia.konstantinopoulou-vanderberg@example-clinic-mail.com"
    ana = ClientFactory(practice=tenant.practice, email=email)

    html = signed_in(tenant.owner).get(url(tenant, "clients:detail", client_id=ana.pk)).content.decode()

    link = re.search(r'<a [^>]*data-testid="header-email"[^>]*>', html)
    assert link is not None and 'class="truncate"' in link.group(0) and f'title="{email}"' in link.group(0)
