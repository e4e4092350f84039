"""A line whose units x price is more than one line can hold is a field error, never a
500 from the database (issue 9, part 10)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing import services
from billing.models import Invoice
from tests.factories import ClientFactory, make_item
from tests.helpers import signed_in, url

D = Decimal
HUGE = {"units": "999999.99", "price": "999999999.99"}


@pytest.mark.django_db
def test_a_free_line_past_the_amount_column_is_a_field_error(tenant):
    ana = ClientFactory(practice=tenant.practice)
    post = {
        "client": ana.pk,
        "action": "issue",
        "line-TOTAL_FORMS": "1",
        "line-INITIAL_FORMS": "0",
        "line-0-description": "Everything",
        "line-0-units": HUGE["units"],
        "line-0-unit_price": HUGE["price"],
        "line-0-tax_percent": "0",
    }

    response = signed_in(tenant.biller).post(url(tenant, "billing:invoice_new"), post)

    assert response.status_code == 400
    assert services.LINE_TOO_LARGE in response.content.decode()
    assert not Invoice.objects.filter(client=ana).exists()


@pytest.mark.django_db
def test_an_adjusted_item_past_the_amount_column_is_a_field_error(tenant):
    ana = ClientFactory(practice=tenant.practice)
    item = make_item(tenant.practice, ana, price="100.00")

    response = signed_in(tenant.biller).post(
        url(tenant, "billing:client_create_invoice", client_id=ana.pk),
        {
            "item": [item.pk],
            "action": "issue",
            f"units_{item.pk}": "1000",
            f"price_{item.pk}": "1000000",
            f"tax_{item.pk}": "0",
        },
    )

    assert response.status_code == 400
    assert services.LINE_TOO_LARGE in response.content.decode()
    assert not Invoice.objects.filter(client=ana).exists()
    item.refresh_from_db()
    assert item.amount == D("100.00")


@pytest.mark.django_db
def test_the_service_refuses_a_line_past_the_amount_column(tenant):
    ana = ClientFactory(practice=tenant.practice)

    with pytest.raises(ValidationError) as refused:
        services.invoice_create(
            practice=tenant.practice,
            client=ana,
            actor=tenant.biller,
            lines=[services.LineInput(description="x", units=D("5000"), unit_price=D("250000"), tax_percent=D("0"))],
        )

    assert refused.value.message_dict == {"unit_price": [services.LINE_TOO_LARGE]}
    assert not Invoice.objects.filter(client=ana).exists()
