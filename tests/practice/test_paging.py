"""Long lists count at most COUNT_CAP rows: past it a list reads "more than 1,000" and pages
on with Previous and Next, at the same number of queries as a short list."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clients.models import Client
from practice import paging
from practice.paging import CappedPaginator
from tests.factories import ClientFactory
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db


def clients(tenant, count):
    for n in range(count):
        ClientFactory(practice=tenant.practice, first_name=f"Client{n:02d}", last_name="Long")
    return Client.objects.filter(practice=tenant.practice).order_by("first_name", "pk")


def test_a_list_within_the_cap_counts_and_pages_as_before(tenant):
    rows = clients(tenant, 5)
    paginator = CappedPaginator(rows, 2, cap=5)
    assert (paginator.count, paginator.capped, paginator.num_pages, paginator.count_label) == (5, False, 3, "5")
    last = paginator.get_page(99)  # past the end: the last page, as Django's own paginator does
    assert last.number == 3 and [c.first_name for c in last] == ["Client04"] and not last.has_next()


def test_a_list_past_the_cap_pages_on_without_a_total(tenant):
    rows = clients(tenant, 8)
    paginator = CappedPaginator(rows, 2, cap=5)
    assert paginator.capped and paginator.count_label == "more than 5"
    # Page 4 lies past the pages the cap counted, and is still reached
    fourth = paginator.get_page(4)
    assert [c.first_name for c in fourth] == ["Client06", "Client07"]
    assert fourth.has_previous() and not fourth.has_next()
    assert (fourth.start_index(), fourth.end_index()) == (7, 8)
    third = paginator.get_page("3")
    assert third.has_next() and third.next_page_number() == 4
    # A page past the end, or not a number, is the first page
    assert paginator.get_page(9).number == 1
    assert paginator.get_page("x").number == 1


def test_the_clients_list_past_the_cap_says_more_than_and_costs_the_same_queries(tenant, monkeypatch):
    monkeypatch.setattr("clients.views.PAGE_SIZE", 2)
    owner = signed_in(tenant.owner)
    list_url = url(tenant.practice, "clients:list")
    clients(tenant, 3)
    monkeypatch.setattr(paging, "COUNT_CAP", 5)
    owner.get(list_url)  # the first request of a session does its own bookkeeping
    with CaptureQueriesContext(connection) as short:
        page = owner.get(list_url).content.decode()
    assert "3 clients" in page and "Page 1 of 2" in page
    clients_more = 9
    for n in range(clients_more):
        ClientFactory(practice=tenant.practice, first_name=f"More{n:02d}", last_name="Long")
    with CaptureQueriesContext(connection) as long:
        page = owner.get(list_url).content.decode()
    assert "More than 5 clients" in page
    assert "Page 1<" in page.replace("</span>", "<") and "Next" in page
    assert len(long) == len(short)
    page6 = owner.get(list_url + "?page=6").content.decode()
    assert "Page 6" in page6 and "Previous" in page6 and "Next" not in page6
