"""Issue 14, part 3: a self-hosted practice uses its own Stripe keys instead of Connect.

Against the fake over real HTTP: the keys are checked (shape, one mode, then GET /v1/account
with the secret key) before anything is saved; saved keys are encrypted in the database and
shown masked; a payment of such a practice goes out with its own key and no Stripe-Account
header; its own webhook endpoint takes events signed with its signing secret only.
"""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client as Browser
from django.urls import reverse
from django.utils.html import escape

from billing.models import Invoice, Payment
from billing.payment_links import payment_link_token
from payments import own_keys
from payments.checkout import attempt_token
from payments.fakestripe.webhooks import sign
from payments.models import CheckoutAttempt, StripeAccount, StripeOwnKeys, WebhookEvent
from practice.field_encryption import decrypt_text
from practice.models import AuditLog
from tests.factories import ClientFactory, issued_invoice
from tests.helpers import signed_in, url

from .helpers import connected_account

pytestmark = pytest.mark.django_db

WEBHOOK_SECRET = "whsec_practiceOwnSecret0123456789"
OTHER_SECRET = "whsec_someoneElsesSecret987654321"


@pytest.fixture
def own(app_on_fake):
    """A standalone Stripe account of the practice's own: its id and its two keys."""
    return app_on_fake.control.standalone_account(business_name="Harbour Street")


def _save(browser, tenant, secret, publishable, webhook=""):
    return browser.post(
        url(tenant, "payments:own_keys_save"),
        {"secret_key": secret, "publishable_key": publishable, "webhook_secret": webhook},
    )


def _account_reads(fake):
    return [r for r in fake.control.requests() if r["path"] == "/v1/account"]


def _redacted(key):
    return f"{key[:8]}...{key[-4:]}"


def _nothing_saved(tenant):
    assert not StripeOwnKeys.objects.filter(account__practice=tenant.practice).exists()
    assert not StripeAccount.objects.filter(practice=tenant.practice).exists()
    tenant.practice.refresh_from_db()
    assert tenant.practice.online_payments_enabled is False


@pytest.mark.parametrize(
    ("secret", "publishable", "message"),
    [
        ("rk_test_51AbcdefghIJKL", "pk_test_51AbcdefghIJKL", own_keys.SECRET_KEY_FORMAT),
        ("pk_test_51AbcdefghIJKL", "pk_test_51AbcdefghIJKL", own_keys.SECRET_KEY_FORMAT),
        ("sk_test_51AbcdefghIJKL", "sk_test_51AbcdefghIJKL", own_keys.PUBLISHABLE_KEY_FORMAT),
        ("", "", own_keys.SECRET_KEY_FORMAT),
    ],
)
def test_a_key_of_the_wrong_kind_saves_nothing(app_on_fake, tenant, secret, publishable, message):
    response = _save(signed_in(tenant.owner), tenant, secret, publishable)

    assert response.status_code == 400
    assert escape(message) in response.content.decode()
    assert _account_reads(app_on_fake) == []  # refused before asking Stripe
    _nothing_saved(tenant)


def test_a_signing_secret_of_the_wrong_kind_saves_nothing(app_on_fake, tenant, own):
    response = _save(signed_in(tenant.owner), tenant, own["secret_key"], own["publishable_key"], "sk_test_notawhsec1")

    assert response.status_code == 400
    assert escape(own_keys.WEBHOOK_SECRET_FORMAT) in response.content.decode()
    _nothing_saved(tenant)


def test_keys_of_two_modes_save_nothing(app_on_fake, tenant, own):
    live_publishable = "pk_live_" + own["publishable_key"].removeprefix("pk_test_")

    response = _save(signed_in(tenant.owner), tenant, own["secret_key"], live_publishable)

    assert response.status_code == 400
    assert escape(own_keys.MODES_DIFFER.format(secret="test", publishable="live")) in response.content.decode()
    assert _account_reads(app_on_fake) == []
    _nothing_saved(tenant)


def test_a_key_stripe_refuses_saves_nothing(app_on_fake, tenant, own):
    app_on_fake.control.revoke_key(own["secret_key"])

    response = _save(signed_in(tenant.owner), tenant, own["secret_key"], own["publishable_key"], WEBHOOK_SECRET)

    assert response.status_code == 400
    page = response.content.decode()
    assert escape(own_keys.KEY_REJECTED) in page
    assert own["secret_key"] not in page  # the field is not filled back in
    (read,) = _account_reads(app_on_fake)
    assert read["status"] == 401 and read["api_key"] == _redacted(own["secret_key"])
    _nothing_saved(tenant)


def test_stripe_unreachable_saves_nothing(app_on_fake, tenant, own, settings):
    settings.STRIPE_TIMEOUT_SECONDS = 0.3
    app_on_fake.control.fail_next("500", count=5, path="/v1/account")

    response = _save(signed_in(tenant.owner), tenant, own["secret_key"], own["publishable_key"])

    assert response.status_code == 400
    assert escape(own_keys.KEY_NOT_CHECKED) in response.content.decode()
    _nothing_saved(tenant)


def test_good_keys_are_checked_saved_encrypted_and_shown_masked(app_on_fake, tenant, own):
    owner = signed_in(tenant.owner)
    secret, publishable = own["secret_key"], own["publishable_key"]

    response = _save(owner, tenant, secret, publishable, WEBHOOK_SECRET)

    assert response.status_code == 302
    (read,) = _account_reads(app_on_fake)
    assert read["method"] == "GET" and read["status"] == 200
    assert read["api_key"] == _redacted(secret) and read["stripe_account"] is None
    account = StripeAccount.objects.get(practice=tenant.practice)
    assert account.stripe_account_id == own["account"]["id"] and account.charges_enabled
    tenant.practice.refresh_from_db()
    assert tenant.practice.online_payments_enabled is True

    # The columns hold Fernet tokens: none of the three secrets is in the row as saved.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {StripeOwnKeys._meta.db_table}")
        row = " ".join(str(value) for value in cursor.fetchone())
    for value in (secret, publishable, WEBHOOK_SECRET, secret[8:], WEBHOOK_SECRET[6:]):
        assert value not in row
    keys = StripeOwnKeys.objects.get()
    assert decrypt_text(keys.secret_key_encrypted) == secret
    assert decrypt_text(keys.webhook_secret_encrypted) == WEBHOOK_SECRET

    page = owner.get(url(tenant, "payments:online_payments")).content.decode()
    assert f"sk_test_••••{secret[-4:]}" in page
    assert f"pk_test_••••{publishable[-4:]}" in page
    assert f"whsec_••••{WEBHOOK_SECRET[-4:]}" in page
    assert secret not in page and publishable not in page and WEBHOOK_SECRET not in page
    assert "Stripe connected" in page and own["account"]["id"] in page
    assert reverse("stripe_webhook_practice", kwargs={"token": keys.webhook_token}) in page
    assert "Complete Stripe setup" not in page

    audit = AuditLog.objects.get(practice=tenant.practice, action=own_keys.OWN_KEYS_SAVED)
    assert audit.changes["secret_key"] == ["", f"sk_test_••••{secret[-4:]}"]
    assert secret not in json.dumps(audit.changes)


def test_keys_are_replaced_then_removed(app_on_fake, tenant, own):
    owner = signed_in(tenant.owner)
    _save(owner, tenant, own["secret_key"], own["publishable_key"])
    token = StripeOwnKeys.objects.get().webhook_token

    # The signing secret alone: the saved keys are kept, and Stripe is not asked again.
    assert _save(owner, tenant, "", "", WEBHOOK_SECRET).status_code == 302
    assert len(_account_reads(app_on_fake)) == 1
    # Then the keys of another account of the practice's.
    other = app_on_fake.control.standalone_account()
    assert _save(owner, tenant, other["secret_key"], other["publishable_key"]).status_code == 302

    keys = StripeOwnKeys.objects.get()
    assert decrypt_text(keys.secret_key_encrypted) == other["secret_key"]
    assert decrypt_text(keys.webhook_secret_encrypted) == WEBHOOK_SECRET
    assert keys.webhook_token == token  # the endpoint configured at Stripe stays where it is
    assert StripeAccount.objects.get(practice=tenant.practice).stripe_account_id == other["account"]["id"]
    replaced = AuditLog.objects.filter(action=own_keys.OWN_KEYS_REPLACED).order_by("pk")
    assert [sorted(a.changes) for a in replaced] == [
        ["webhook_secret"],
        ["account", "publishable_key", "secret_key"],
    ]

    confirm = owner.get(url(tenant, "payments:own_keys_remove"))
    assert "Online payments stop" in confirm.content.decode()
    done = owner.post(url(tenant, "payments:own_keys_remove"), follow=True).content.decode()

    assert escape(own_keys.KEYS_REMOVED) in done and "Use your own Stripe keys" in done
    assert not StripeOwnKeys.objects.exists()
    assert StripeAccount.objects.get(practice=tenant.practice).disconnected_at is not None
    tenant.practice.refresh_from_db()
    assert tenant.practice.online_payments_enabled is False
    removed = AuditLog.objects.get(action=own_keys.OWN_KEYS_REMOVED)
    assert removed.changes["secret_key"] == [f"sk_test_••••{other['secret_key'][-4:]}", ""]
    gone = Browser().post(reverse("stripe_webhook_practice", kwargs={"token": token}), b"{}", "application/json")
    assert gone.status_code == 404


def test_keys_of_an_account_another_practice_uses_are_refused(app_on_fake, tenant, other_tenant, own):
    first = _save(signed_in(other_tenant.owner), other_tenant, own["secret_key"], own["publishable_key"])
    assert first.status_code == 302

    response = _save(signed_in(tenant.owner), tenant, own["secret_key"], own["publishable_key"])

    assert response.status_code == 400
    assert escape(own_keys.ACCOUNT_TAKEN) in response.content.decode()
    _nothing_saved(tenant)


def test_a_practice_connected_through_stripe_connect_cannot_add_keys(app_on_fake, tenant, own):
    StripeAccount.objects.create(
        practice=tenant.practice, stripe_account_id=connected_account(app_on_fake), charges_enabled=True
    )
    owner = signed_in(tenant.owner)
    assert "Use your own Stripe keys" not in owner.get(url(tenant, "payments:online_payments")).content.decode()

    response = _save(owner, tenant, own["secret_key"], own["publishable_key"])

    assert response.status_code == 400
    assert escape(own_keys.CONNECTED_ALREADY) in response.content.decode()
    assert not StripeOwnKeys.objects.exists()


def test_only_the_owner_and_admin_enter_keys(app_on_fake, tenant, own):
    response = _save(signed_in(tenant.biller), tenant, own["secret_key"], own["publishable_key"])

    assert response.status_code == 403
    assert _account_reads(app_on_fake) == []
    assert _save(signed_in(tenant.admin), tenant, own["secret_key"], own["publishable_key"]).status_code == 302


# -- paying, and Stripe's events -----------------------------------------------------------------


@pytest.fixture
def self_hosted(app_on_fake, tenant, own):
    """The practice on its own keys (saved through the service, as the form does)."""
    own_keys.own_keys_save(
        practice=tenant.practice,
        actor=tenant.owner,
        secret_key=own["secret_key"],
        publishable_key=own["publishable_key"],
        webhook_secret=WEBHOOK_SECRET,
    )
    return StripeOwnKeys.objects.get()


@pytest.fixture
def invoice(tenant):
    ana = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima")
    return issued_invoice(tenant.practice, ana, tenant.biller, "150.00", "80.00")


def _pay_online(invoice):
    start = reverse("checkout_start", kwargs={"token": payment_link_token(invoice)})
    return Browser().post(start, {"balance": str(invoice.balance)})


def test_pay_online_goes_out_with_the_practices_own_key(app_on_fake, tenant, own, self_hosted, invoice, settings):
    settings.STRIPE_PLATFORM_FEE_PERCENT = "2.5"  # a platform's fee: none on a practice's own account
    app_on_fake.control.call("DELETE", "requests")

    assert _pay_online(invoice).status_code == 303
    attempt = CheckoutAttempt.objects.get()
    assert app_on_fake.control.pay_session(attempt.stripe_checkout_session_id)["outcome"] == "complete"
    page = Browser().get(
        reverse("checkout_return", kwargs={"token": attempt_token(attempt)}),
        {"session_id": attempt.stripe_checkout_session_id},
    )

    assert 'data-testid="checkout-paid"' in page.content.decode()
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert Payment.objects.get().external_id.startswith("pi_")
    app_requests = [r for r in app_on_fake.control.requests() if r["path"].startswith("/v1/")]
    paths = {(r["method"], r["path"].split("/cs_")[0]) for r in app_requests}
    assert ("POST", "/v1/checkout/sessions") in paths and ("GET", "/v1/checkout/sessions") in paths
    for request in app_requests:
        assert request["api_key"] == _redacted(own["secret_key"]), request["path"]
        assert request["stripe_account"] is None, request["path"]
        assert request["account"] == own["account"]["id"]
        assert request["status"] == 200
    (created,) = [r for r in app_requests if r["method"] == "POST"]
    assert created["idempotency_key"] == f"checkout:{attempt.pk}:session"
    assert "payment_intent_data" not in created["params"]


def test_a_webhook_signed_with_the_practices_secret_is_handled(
    app_on_fake, tenant, own, self_hosted, invoice, django_capture_on_commit_callbacks
):
    # The endpoint the practice adds in its own Stripe dashboard, with its signing secret.
    app_on_fake.control.add_webhook_endpoint(
        app_on_fake.webhooks.url + "/own", WEBHOOK_SECRET, account=own["account"]["id"]
    )
    _pay_online(invoice)
    attempt = CheckoutAttempt.objects.get()
    app_on_fake.control.pay_session(attempt.stripe_checkout_session_id)
    assert app_on_fake.control.wait_for_webhooks(timeout=10)
    with app_on_fake.webhooks.lock:
        received = [i for i in app_on_fake.webhooks.received if i.path == "/own"]
    (completed,) = [i for i in received if json.loads(i.body)["type"] == "checkout.session.completed"]
    assert "account" not in json.loads(completed.body)  # nobody's connected account
    endpoint = reverse("stripe_webhook_practice", kwargs={"token": self_hosted.webhook_token})

    forged = Browser().post(
        endpoint,
        completed.body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(completed.body.decode(), OTHER_SECRET),
    )
    platform = Browser().post(
        reverse("stripe_webhook"),
        completed.body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=completed.signature,
    )
    assert forged.status_code == 400 and platform.status_code == 400
    assert not WebhookEvent.objects.exists() and not Payment.objects.exists()

    app_on_fake.control.call("DELETE", "requests")
    with django_capture_on_commit_callbacks(execute=True):
        response = Browser().post(
            endpoint, completed.body, content_type="application/json", HTTP_STRIPE_SIGNATURE=completed.signature
        )

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.account, event.status) == (own["account"]["id"], WebhookEvent.Status.PROCESSED)
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID and Payment.objects.count() == 1
    # The handler re-read the session from Stripe with the practice's key, no header.
    rereads = [r for r in app_on_fake.control.requests() if r["path"].startswith("/v1/checkout/sessions/")]
    assert rereads and all(
        r["api_key"] == _redacted(own["secret_key"]) and r["stripe_account"] is None for r in rereads
    )


def test_after_the_encryption_key_changes_nothing_goes_to_stripe_and_keys_are_asked_again(
    app_on_fake, tenant, own, self_hosted, invoice, settings
):
    settings.FIELD_ENCRYPTION_KEY = "another-key-altogether-0123456789abcdef"
    app_on_fake.control.call("DELETE", "requests")

    paying = _pay_online(invoice)
    replacing = _save(signed_in(tenant.owner), tenant, "", "", WEBHOOK_SECRET)

    assert paying.status_code == 503  # "try again later", as when Stripe cannot be reached
    assert not [r for r in app_on_fake.control.requests() if r["path"].startswith("/v1/")]
    assert replacing.status_code == 400
    assert escape(own_keys.SECRET_KEY_FORMAT) in replacing.content.decode()
    endpoint = reverse("stripe_webhook_practice", kwargs={"token": self_hosted.webhook_token})
    body = json.dumps({"id": "evt_1", "object": "event", "type": "charge.updated", "data": {"object": {}}})
    refused = Browser().post(
        endpoint, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(body, WEBHOOK_SECRET)
    )
    assert refused.status_code == 400
