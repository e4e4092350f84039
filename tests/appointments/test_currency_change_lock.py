"""The practice currency cannot change under uninvoiced billing items (billing-details settings),
and still can before anything is billed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing import services
from billing.services import settings as ss
from practice.models import Practice
from tests.appointments.helpers import details_post
from tests.factories import ClientFactory, make_item

pytestmark = pytest.mark.django_db


def _data(practice: Practice, **overrides: str) -> dict:
    data: dict = {**details_post(practice, **overrides), "prices_include_tax": False}
    for key in ("no_show_fee", "late_cancel_fee"):
        data[key] = Decimal(data[key])
    data["late_cancel_window_hours"] = 24
    return data


def test_the_currency_cannot_change_under_uninvoiced_billing_items(tenant):
    # Given a USD practice with no invoice yet, but an uninvoiced session of $100.50
    client = ClientFactory(practice=tenant.practice)
    item = make_item(tenant.practice, client, price="100.50")
    # When the owner switches the practice to yen
    with pytest.raises(ss.ValidationError) as exc:
        ss.billing_details_update(
            practice=tenant.practice, actor=tenant.owner, data=_data(tenant.practice, currency="JPY")
        )
    # Then it is refused: the item would otherwise be invoiced as ¥100.50, an amount no yen
    # payment can settle
    assert exc.value.message_dict == {"currency": [ss.CURRENCY_LOCKED]}
    assert Practice.objects.get(pk=tenant.practice.pk).currency == "USD"
    invoice = services.invoice_create(
        practice=Practice.objects.get(pk=tenant.practice.pk), client=client, actor=tenant.biller, item_ids=[item.pk]
    )
    assert (invoice.currency, invoice.total) == ("USD", Decimal("100.50"))


def test_the_currency_can_still_change_before_anything_is_billed(tenant):
    # Given a practice with no billing item, invoice or payment
    # When the owner switches it to euros
    ss.billing_details_update(practice=tenant.practice, actor=tenant.owner, data=_data(tenant.practice, currency="EUR"))
    # Then it is saved
    assert Practice.objects.get(pk=tenant.practice.pk).currency == "EUR"
