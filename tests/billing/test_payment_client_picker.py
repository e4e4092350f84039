"""Issue 9 part 5: the Billing page's Add payment asks for the client first (a type-ahead
picker with a plain search form as fallback), then shows the Add payment form."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clients.selectors import CLIENT_SEARCH_LIMIT
from tests.factories import ClientFactory
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(tenant, other_tenant):
    """Ana Smith (Clara's client) and Anabel Jones here; an Ana Smith in the look-alike practice."""
    ana = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Smith", clinicians=[tenant.clinician])
    anabel = ClientFactory(practice=tenant.practice, first_name="Anabel", last_name="Jones")
    foreign = ClientFactory(practice=other_tenant.practice, first_name="Ana", last_name="Smith")
    return ana, anabel, foreign


def test_the_billing_pages_add_payment_leads_to_the_client_picker(tenant, people):
    biller = signed_in(tenant.biller)

    home = biller.get(url(tenant, "billing:home")).content.decode()
    assert f'href="{url(tenant, "billing:payment_client_pick")}">Add payment<' in home

    # The old address (no client, no invoice) no longer answers 404 "No such client"
    response = biller.get(url(tenant, "billing:payment_new"))
    assert response.status_code == 302 and response["Location"] == url(tenant, "billing:payment_client_pick")

    page = biller.get(url(tenant, "billing:payment_client_pick"))
    html = page.content.decode()
    assert page.status_code == 200
    assert f'hx-get="{url(tenant, "billing:client_search")}"' in html
    assert 'name="q"' in html and ">Search</button>" in html


def test_typing_finds_this_practices_clients_and_leads_to_their_payment_form(tenant, people):
    ana, anabel, foreign = people
    biller = signed_in(tenant.biller)

    results = biller.get(url(tenant, "billing:client_search"), {"q": "ana"}, HTTP_HX_REQUEST="true")

    html = results.content.decode()
    assert html.count('data-testid="client-result"') == 2
    assert f"?client={ana.pk}" in html and f"?client={anabel.pk}" in html
    assert f"?client={foreign.pk}" not in html
    form = biller.get(f"{url(tenant, 'billing:payment_new')}?client={ana.pk}")
    assert form.status_code == 200 and 'Add payment <span class="muted">· Ana Smith' in form.content.decode()


def test_the_no_js_search_form_shows_the_same_results(tenant, people):
    ana, _anabel, foreign = people

    html = signed_in(tenant.biller).get(url(tenant, "billing:payment_client_pick"), {"q": "smith"}).content.decode()

    assert html.count('data-testid="client-result"') == 1
    assert f"?client={ana.pk}" in html and f"?client={foreign.pk}" not in html


def test_a_clinician_finds_only_their_own_clients(tenant, people):

    html = signed_in(tenant.clinician).get(url(tenant, "billing:client_search"), {"q": "ana"}).content.decode()

    assert html.count('data-testid="client-result"') == 1
    assert "Ana Smith" in html and "Anabel" not in html
    # and the picker page itself, which leads to Add payment, is for billers
    assert signed_in(tenant.clinician).get(url(tenant, "billing:payment_client_pick")).status_code == 403


def test_an_empty_search_lists_nobody(tenant, people):
    html = signed_in(tenant.biller).get(url(tenant, "billing:client_search"), {"q": "  "}).content.decode()
    assert 'data-testid="client-result"' not in html


def test_the_search_is_limited_and_takes_a_fixed_number_of_queries(tenant, django_assert_max_num_queries):
    for i in range(CLIENT_SEARCH_LIMIT + 5):
        ClientFactory(practice=tenant.practice, first_name=f"Sam{i}", last_name="Lee")
    biller = signed_in(tenant.biller)
    biller.get(url(tenant, "billing:client_search"), {"q": "x"})  # warm the session

    # The same queries for 6 matches (Sam1, Sam10..Sam14) as for all of them
    with CaptureQueriesContext(connection) as fewer:
        biller.get(url(tenant, "billing:client_search"), {"q": "Sam1 Lee"})
    with django_assert_max_num_queries(len(fewer)):
        response = biller.get(url(tenant, "billing:client_search"), {"q": "lee"})

    assert response.content.decode().count('data-testid="client-result"') == CLIENT_SEARCH_LIMIT
