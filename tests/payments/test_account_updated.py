"""account.updated, as the fake signs and sends it, keeps the practice's account current."""

from __future__ import annotations

import json

from django.test import Client
from django.urls import reverse

from payments.models import StripeAccount, WebhookEvent
from payments.services import connect_onboarding_start

from .conftest import CONNECT_SECRET


def _deliveries(fake, type_):
    assert fake.control.wait_for_webhooks(timeout=10)
    with fake.webhooks.lock:
        items = list(fake.webhooks.received)
    return [i for i in items if i.path == "/connect" and json.loads(i.body)["type"] == type_]


def _post(item):
    return Client().post(
        reverse("stripe_webhook"),
        item.body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=item.signature,
    )


def test_account_updated_events_converge_on_stripes_state(
    app_on_fake, settings, tenant, other_tenant, django_capture_on_commit_callbacks
):
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = CONNECT_SECRET
    connect_onboarding_start(
        practice=tenant.practice, actor=tenant.owner, return_url="http://app.test/b", refresh_url="http://app.test/r"
    )
    account = StripeAccount.objects.get(practice=tenant.practice)
    app_on_fake.control.onboard(account.stripe_account_id, "pending")
    app_on_fake.control.onboard(account.stripe_account_id, "complete")
    pending, complete = _deliveries(app_on_fake, "account.updated")

    # Out of order and twice: the rows follow Stripe's current state, not the event's copy.
    with django_capture_on_commit_callbacks(execute=True):
        for item in (complete, pending, pending, complete):
            assert _post(item).status_code == 200

    account.refresh_from_db()
    tenant.practice.refresh_from_db()
    assert account.status == StripeAccount.Status.CONNECTED
    assert tenant.practice.online_payments_enabled is True
    assert sorted(WebhookEvent.objects.values_list("status", flat=True)) == ["processed", "processed"]


def test_an_unknown_accounts_event_is_ignored(
    app_on_fake, settings, tenant, other_tenant, django_capture_on_commit_callbacks
):
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = CONNECT_SECRET
    stranger = app_on_fake.control.create_account()["id"]
    app_on_fake.control.onboard(stranger, "complete")
    (item,) = _deliveries(app_on_fake, "account.updated")

    with django_capture_on_commit_callbacks(execute=True):
        assert _post(item).status_code == 200

    assert WebhookEvent.objects.get().status == "ignored"
    assert not StripeAccount.objects.exists()
