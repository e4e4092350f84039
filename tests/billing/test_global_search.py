"""The header's search: clients by name, email or phone and invoices by number, grouped,
scoped to the practice and, for a clinician, to their own clients."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.selectors import SEARCH_LIMIT
from tests.factories import ClientFactory, issued_invoice
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db


def search(client, tenant, q, **headers):
    return client.get(url(tenant, "billing:search"), {"q": q}, **headers)


@pytest.fixture
def people(tenant, other_tenant):
    # Look-alikes in the other practice must never show.
    twin = ClientFactory(practice=other_tenant.practice, first_name="Ana", last_name="Lima", email="ana@twin.test")
    issued_invoice(other_tenant.practice, twin, other_tenant.biller)
    ana = ClientFactory(
        practice=tenant.practice,
        first_name="Ana",
        last_name="Lima",
        email="ana@mail.test",
        phone="207-555-0101",
        clinicians=[tenant.clinician],
    )
    bruno = ClientFactory(
        practice=tenant.practice, first_name="Bruno", last_name="Costa", clinicians=[tenant.clinician2]
    )
    return ana, bruno


def test_clients_are_found_by_name_email_and_phone_and_link_to_their_record(tenant, people):
    ana, _ = people
    owner = signed_in(tenant.owner)
    for q in ("lima", "Ana Lima", "ana@mail", "555-0101"):
        response = search(owner, tenant, q, HTTP_HX_REQUEST="true")
        html = response.content.decode()
        assert response.status_code == 200
        assert [c.pk for c in response.context["results"].clients] == [ana.pk], q
        assert url(tenant, "clients:detail", client_id=ana.pk) in html
        assert "<html" not in html  # the htmx partial only


def test_invoices_are_found_by_number_under_their_own_heading(tenant, people):
    ana, bruno = people
    first = issued_invoice(tenant.practice, ana, tenant.biller)
    second = issued_invoice(tenant.practice, bruno, tenant.biller)
    response = search(signed_in(tenant.biller), tenant, second.number, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert [i.pk for i in response.context["results"].invoices] == [second.pk]
    assert first.number != second.number
    assert 'id="search-group-invoices">Invoices<' in html
    assert 'data-testid="search-clients"' not in html
    assert url(tenant, "billing:invoice", invoice_id=second.pk) in html
    assert "Bruno Costa" in html


def test_both_groups_show_clients_first(tenant, people):
    ana, _ = people
    invoice = issued_invoice(tenant.practice, ana, tenant.biller)
    ClientFactory(practice=tenant.practice, first_name="Nora", last_name=f"X{invoice.number}")
    html = search(signed_in(tenant.owner), tenant, invoice.number, HTTP_HX_REQUEST="true").content.decode()
    assert html.index(">Clients<") < html.index(">Invoices<")


def test_a_clinician_finds_only_their_own_clients_and_their_invoices(tenant, people):
    ana, bruno = people
    anas = issued_invoice(tenant.practice, ana, tenant.biller)
    brunos = issued_invoice(tenant.practice, bruno, tenant.biller)
    clara = signed_in(tenant.clinician)
    assert search(clara, tenant, "costa").context["results"].empty
    assert [c.pk for c in search(clara, tenant, "lima").context["results"].clients] == [ana.pk]
    assert search(clara, tenant, brunos.number).context["results"].invoices == []
    assert [i.pk for i in search(clara, tenant, anas.number).context["results"].invoices] == [anas.pk]


def test_another_practices_rows_never_show(tenant, other_tenant, people):
    theirs = issued_invoice(other_tenant.practice, ClientFactory(practice=other_tenant.practice), other_tenant.biller)
    results = search(signed_in(tenant.owner), tenant, "ana").context["results"]
    assert all(c.practice_id == tenant.practice.pk for c in results.clients)
    assert len(results.clients) == 1
    found = search(signed_in(tenant.owner), tenant, theirs.number).context["results"].invoices
    assert theirs.pk not in [i.pk for i in found]


def test_no_match_says_so_and_an_empty_search_lists_nothing(tenant, people):
    owner = signed_in(tenant.owner)
    assert "Nothing matches “zzz”." in search(owner, tenant, "zzz", HTTP_HX_REQUEST="true").content.decode()
    empty = search(owner, tenant, "   ", HTTP_HX_REQUEST="true")
    assert empty.context["results"].empty and 'role="option"' not in empty.content.decode()


def test_without_javascript_the_form_opens_a_results_page(tenant, people):
    html = search(signed_in(tenant.owner), tenant, "lima").content.decode()
    assert "<h1>Search</h1>" in html and "Ana Lima" in html


def test_every_page_has_the_search_box(tenant):
    html = signed_in(tenant.owner).get(url(tenant, "clients:list")).content.decode()
    assert 'role="combobox"' in html and f'hx-get="{url(tenant, "billing:search")}"' in html


def test_post_is_refused(tenant):
    assert signed_in(tenant.owner).post(url(tenant, "billing:search"), {"q": "x"}).status_code == 405


def test_query_count_does_not_grow_with_matches(tenant):
    owner = signed_in(tenant.owner)
    client = ClientFactory(practice=tenant.practice, last_name="Moreau")
    issued_invoice(tenant.practice, client, tenant.biller)
    owner.get(url(tenant, "clients:list"))  # warm the session

    prefix = tenant.practice.invoice_prefix or "0"

    def count(q: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = search(owner, tenant, q, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        return len(ctx.captured_queries)

    few = count("moreau"), count(prefix)
    for c in ClientFactory.create_batch(SEARCH_LIMIT + 4, practice=tenant.practice, last_name="Moreau"):
        issued_invoice(tenant.practice, c, tenant.biller)
    # Then a full list of clients, or of invoices, costs what one did
    assert (count("moreau"), count(prefix)) == few
    assert len(search(owner, tenant, prefix).context["results"].invoices) == SEARCH_LIMIT
