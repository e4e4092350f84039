"""An id in the query string or the form that is not an ASCII number (``²``: str.isdigit() says yes,
int() says no) is a 404 or a field error, never a server error."""

from __future__ import annotations

import pytest

from billing.models import Invoice
from tests.factories import ClientFactory, issued_invoice, make_item
from tests.helpers import signed_in, url


@pytest.fixture
def ana(tenant, other_tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Smith")


@pytest.mark.django_db
def test_a_payment_form_for_a_non_ascii_digit_invoice_id_is_a_404_not_a_crash(tenant, biller, ana):
    # Given an open invoice
    issued_invoice(tenant.practice, ana, tenant.owner)
    # When the payment form is opened with ?invoice=² (str.isdigit() says yes, int() says no)
    response = biller.get(url(tenant, "billing:payment_new"), {"invoice": "²"})
    # Then it is the 404 of a missing invoice, not a server error
    assert response.status_code == 404


@pytest.mark.django_db
def test_the_item_picker_for_a_non_ascii_digit_client_id_shows_no_items(tenant, biller, ana):
    # Given a client with an uninvoiced item
    make_item(tenant.practice, ana)
    # When the + New invoice item picker is asked for ?client=²
    response = biller.get(url(tenant, "billing:invoice_new_items"), {"client": "²"}, HTTP_HX_REQUEST="true")
    # Then it shows no client's items, and does not crash
    assert response.status_code == 200
    assert response.context["client"] is None


@pytest.mark.django_db
def test_new_invoice_posted_with_a_non_ascii_digit_client_is_a_field_error(tenant, biller, ana):
    # Given a client with an uninvoiced item
    make_item(tenant.practice, ana)
    # When + New invoice is posted with client=²
    response = biller.post(url(tenant, "billing:invoice_new"), {"client": "²", "action": "draft"})
    # Then the form says to choose a client, and nothing is created
    assert response.status_code == 400
    assert "client" in response.context["client_form"].errors
    assert not Invoice.objects.exists()


@pytest.mark.django_db
def test_linking_a_payer_with_a_non_ascii_digit_id_is_a_404_not_a_crash(tenant, ana):
    # When an owner posts "link payer" with payer=²
    response = signed_in(tenant.owner).post(
        url(tenant, "clients:payer_new", client_id=ana.pk), {"action": "link", "payer": "²"}
    )
    # Then it is the 404 of a missing payer
    assert response.status_code == 404
