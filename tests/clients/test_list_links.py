"""Paging and filter links on the lists: every link is a real query string (never "??")
and following it lands where it says."""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.factories import ClientFactory
from tests.helpers import url


def hrefs(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="([^"]*)"', html)]


def link(html: str, text: str) -> str:
    found = re.search(r'<a href="([^"]*)"[^>]*>' + re.escape(text) + "</a>", html)
    assert found, f"no {text!r} link"
    return unescape(found.group(1))


@pytest.mark.django_db
def test_given_30_clients_when_following_next_then_page_2_is_shown(tenant, owner_client):
    ClientFactory.create_batch(30, practice=tenant.practice)
    first = owner_client.get(url(tenant, "clients:list"), {"q": "", "status": "active"})
    html = first.content.decode()
    assert not [h for h in hrefs(html) if "??" in h]
    nxt = link(html, "Next")
    assert nxt.startswith("?") and "page=2" in nxt
    second = owner_client.get(url(tenant, "clients:list") + nxt)
    assert second.context["page"].number == 2
    assert "Page 2 of 2" in second.content.decode()
    prev = link(second.content.decode(), "Previous")
    assert owner_client.get(url(tenant, "clients:list") + prev).context["page"].number == 1


@pytest.mark.django_db
def test_htmx_partial_next_link_goes_to_page_2(tenant, owner_client):
    ClientFactory.create_batch(30, practice=tenant.practice)
    html = owner_client.get(url(tenant, "clients:list"), {"q": ""}, HTTP_HX_REQUEST="true").content.decode()
    nxt = link(html, "Next")
    assert not nxt.startswith("??")
    assert owner_client.get(url(tenant, "clients:list") + nxt).context["page"].number == 2


@pytest.mark.django_db
def test_uninvoiced_tab_filters_by_client_name_and_pages_keep_the_filter(tenant):
    from billing.views.home import PAGE_SIZE
    from tests.factories import make_item
    from tests.helpers import signed_in

    # Given 55 Whitakers and one Lima with uninvoiced items, Lima known as "Annie"
    for client in ClientFactory.create_batch(PAGE_SIZE + 5, practice=tenant.practice, last_name="Whitaker"):
        make_item(tenant.practice, client, "10.00")
    annie = ClientFactory(practice=tenant.practice, first_name="Anabel", preferred_name="Annie", last_name="Lima")
    make_item(tenant.practice, annie, "80.00")
    biller = signed_in(tenant.biller)

    # When the biller searches by the name the row shows
    for term in ("annie", "Annie Lima", "lima"):
        page = biller.get(url(tenant, "billing:home"), {"q": term}).content.decode()
        # Then only that client is listed
        assert page.count('data-testid="uninvoiced-row"') == 1, term
        assert "Annie Lima" in page

    # And paging a filtered list keeps the filter
    page = biller.get(url(tenant, "billing:home"), {"q": "whitaker"}).content.decode()
    nxt = link(page, "Next")
    assert not [h for h in hrefs(page) if "??" in h]
    assert "q=whitaker" in nxt and "page=2" in nxt
    second = biller.get(url(tenant, "billing:home") + nxt).content.decode()
    assert second.count('data-testid="uninvoiced-row"') == 5
