"""The clients list: search, filters, pagination, htmx partial and a flat query count."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clients.models import Client
from tests.factories import ClientFactory, PayerFactory
from tests.helpers import signed_in, url


def names(response) -> list[str]:
    return [c.display_name for c in response.context["page"].object_list]


@pytest.mark.django_db
class TestSearch:
    def test_given_clients_when_searching_by_name_then_only_matches_are_listed(
        self, tenant, owner_client, clara_client, daniel_client
    ):
        response = owner_client.get(url(tenant, "clients:list"), {"q": "lima"})
        assert names(response) == ["Ana Lima"]
        assert "1 client" in response.content.decode()

    def test_first_and_last_name_together_find_the_client(self, tenant, owner_client, clara_client, daniel_client):
        response = owner_client.get(url(tenant, "clients:list"), {"q": "ana lima"})
        assert names(response) == ["Ana Lima"]

    def test_preferred_name_email_and_phone_are_searched(self, tenant, owner_client, daniel_client):
        ClientFactory(practice=tenant.practice, first_name="Robert", preferred_name="Bobby", last_name="Tables")
        assert names(owner_client.get(url(tenant, "clients:list"), {"q": "bobby"})) == ["Bobby Tables"]
        assert names(owner_client.get(url(tenant, "clients:list"), {"q": "BRUNO@MAIL"})) == ["Bruno Costa"]
        assert names(owner_client.get(url(tenant, "clients:list"), {"q": "555-0202"})) == ["Bruno Costa"]

    def test_no_match_says_so(self, tenant, owner_client, clara_client):
        response = owner_client.get(url(tenant, "clients:list"), {"q": "zzz"})
        assert names(response) == []
        assert "No clients match" in response.content.decode()

    def test_the_other_practices_look_alike_never_appears(self, tenant, owner_client, clara_client):
        # The other practice has an "Ana Lima" too (see the fixture).
        response = owner_client.get(url(tenant, "clients:list"), {"q": "ana", "status": "all"})
        assert [c.pk for c in response.context["page"]] == [clara_client.pk]


@pytest.mark.django_db
class TestFilters:
    def test_archived_clients_are_hidden_by_default_and_shown_on_request(self, tenant, owner_client, clara_client):
        ClientFactory(practice=tenant.practice, first_name="Old", last_name="Timer", status=Client.Status.ARCHIVED)
        assert names(owner_client.get(url(tenant, "clients:list"))) == ["Ana Lima"]
        assert names(owner_client.get(url(tenant, "clients:list"), {"status": "archived"})) == ["Old Timer"]
        assert sorted(names(owner_client.get(url(tenant, "clients:list"), {"status": "all"}))) == [
            "Ana Lima",
            "Old Timer",
        ]

    def test_clinician_filter(self, tenant, owner_client, clara_client, daniel_client):
        response = owner_client.get(url(tenant, "clients:list"), {"clinician": tenant.clinician2.pk})
        assert names(response) == ["Bruno Costa"]

    def test_a_nonsense_filter_value_is_ignored_not_an_error(self, tenant, owner_client, clara_client):
        response = owner_client.get(url(tenant, "clients:list"), {"clinician": "abc", "status": "bogus"})
        assert response.status_code == 200
        assert names(response) == ["Ana Lima"]


@pytest.mark.django_db
def test_given_60_clients_when_listing_then_25_per_page(tenant, owner_client):
    ClientFactory.create_batch(60, practice=tenant.practice)
    first = owner_client.get(url(tenant, "clients:list"))
    third = owner_client.get(url(tenant, "clients:list"), {"page": 3})
    assert len(first.context["page"].object_list) == 25
    assert len(third.context["page"].object_list) == 10
    assert "Page 1 of 3" in first.content.decode()


@pytest.mark.django_db
def test_htmx_search_returns_only_the_results_partial(tenant, owner_client, clara_client):
    response = owner_client.get(url(tenant, "clients:list"), {"q": "ana"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert 'id="client-results"' in html
    assert "<html" not in html
    assert "Ana Lima" in html


@pytest.mark.django_db
def test_the_full_page_has_the_htmx_search_form(tenant, owner_client):
    html = owner_client.get(url(tenant, "clients:list")).content.decode()
    assert 'hx-target="#client-results"' in html
    assert 'hx-push-url="true"' in html
    assert "<html" in html


def _list_queries(client, tenant) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url(tenant, "clients:list"), {"status": "all"})
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["owner", "clinician"])
def test_query_count_does_not_grow_with_rows(tenant, role, django_assert_max_num_queries):
    # Given 10 clients, each with two clinicians and a payer
    user = tenant.member(role)
    payer = PayerFactory(practice=tenant.practice)

    def add(n):
        ClientFactory.create_batch(
            n, practice=tenant.practice, payer=payer, clinicians=[tenant.clinician, tenant.clinician2]
        )

    add(10)
    client = signed_in(user)
    client.get(url(tenant, "clients:list"))  # warm the session
    at_10 = _list_queries(client, tenant)
    # When there are 60
    add(50)
    at_60 = _list_queries(client, tenant)
    # Then the page costs the same number of queries
    assert at_10 == at_60
    with django_assert_max_num_queries(at_10):
        client.get(url(tenant, "clients:list"), {"status": "all"})
    with django_assert_max_num_queries(12):
        client.get(url(tenant, "clients:list"), {"status": "all"})
