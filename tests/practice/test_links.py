"""practice_url (behind ``{% purl %}``): the same URL as Django's reverse for every page of
a practice that takes ids, whatever the ids, the practice slug or the script prefix."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse, set_script_prefix
from hypothesis import given
from hypothesis import strategies as st

from practice.links import practice_url


def _practice_pages() -> list[tuple[str, list[str]]]:
    """(URL name, its id arguments) of every named route under /p/<practice_slug>/."""
    found: list[tuple[str, list[str]]] = []

    def walk(patterns, namespace: str, has_slug: bool) -> None:
        for entry in patterns:
            converters = getattr(entry.pattern, "converters", {})
            slug_here = has_slug or "practice_slug" in converters
            if isinstance(entry, URLResolver):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, inner, slug_here)
            elif isinstance(entry, URLPattern) and entry.name and slug_here:
                ids = [name for name, conv in converters.items() if name != "practice_slug"]
                if all(type(conv).__name__ == "IntConverter" for name, conv in converters.items() if name in ids):
                    found.append((f"{namespace}{entry.name}", ids))

    walk(get_resolver().url_patterns, "", False)
    return found


PAGES = _practice_pages()


def test_the_project_has_pages_with_ids_to_check():
    # The walk found the record pages, the invoice page and the pages without ids.
    names = {name for name, _ in PAGES}
    assert {"clients:billing", "billing:invoice", "billing:payment", "billing:home"} <= names


@pytest.mark.parametrize(("name", "ids"), PAGES, ids=[name for name, _ in PAGES])
def test_each_page_reverses_the_same(name, ids):
    for slug, base in (("harbour-street", 7), ("kowhai-7301946285000", 7301946285000)):
        kwargs = {key: base + n for n, key in enumerate(ids)}
        assert practice_url(name, slug, **kwargs) == reverse(name, kwargs={"practice_slug": slug, **kwargs})


@given(ids=st.lists(st.integers(min_value=0, max_value=10**15), min_size=2, max_size=2))
def test_any_ids_land_in_their_places(ids):
    # invoice line pages and others with two ids put each in its own place
    two = [(name, keys) for name, keys in PAGES if len(keys) == 2]
    for name, keys in two or [("billing:invoice", ["invoice_id"])]:
        kwargs = dict(zip(keys, ids, strict=False))
        assert practice_url(name, "harbour-street", **kwargs) == reverse(
            name, kwargs={"practice_slug": "harbour-street", **kwargs}
        )


def test_an_argument_that_is_not_an_id_goes_through_reverse():
    # a str id is what reverse is given too: same URL
    assert practice_url("billing:invoice", "harbour-street", invoice_id="12") == reverse(
        "billing:invoice", kwargs={"practice_slug": "harbour-street", "invoice_id": "12"}
    )


def test_the_script_prefix_is_kept():
    try:
        set_script_prefix("/practica/")
        prefixed = practice_url("billing:invoice", "harbour-street", invoice_id=5)
        assert prefixed == "/practica/p/harbour-street/billing/invoices/5/"
    finally:
        set_script_prefix("/")
    assert practice_url("billing:invoice", "harbour-street", invoice_id=5) == "/p/harbour-street/billing/invoices/5/"
