"""A select's options (clinicians, clients, services) are read with one plain query, not
through a server-side cursor, and list the same choices."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ClientFactory
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("page", ["billing:invoices", "billing:payments", "billing:invoice_new", "clients:list"])
def test_pages_with_a_select_read_its_options_without_a_cursor(tenant, page):
    ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima")
    with CaptureQueriesContext(connection) as queries:
        response = signed_in(tenant.owner).get(url(tenant, page))
    html = response.content.decode()
    assert response.status_code == 200 and "<option" in html
    assert not [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("DECLARE")]


def test_the_clinician_filter_lists_the_practices_clinicians(tenant):
    html = signed_in(tenant.owner).get(url(tenant, "billing:invoices")).content.decode()
    assert f">{tenant.clinician.get_full_name()}</option>" in html
