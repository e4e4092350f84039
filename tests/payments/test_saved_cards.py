"""Issue 14, part 5: Save a card. Staff email the client a link (Request card details); the
client saves a card through Checkout in setup mode on the fake Stripe (over real HTTP);
the card is stored from Stripe's own state, once, whether the return page or the webhook
sees it first. Staff set the default card and remove a card (detached at Stripe)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.test import Client as Browser
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from payments import cards
from payments.cards import CARD_GONE, CARD_NO_EMAIL, CARD_REMOVED, CARD_REQUEST_SENT, card_link_token, setup_token
from payments.models import CardSetup, SavedCard, StripeAccount, StripeCustomer
from tests.factories import ClientFactory, PayerFactory
from tests.helpers import signed_in, url

from .conftest import CONNECT_SECRET
from .helpers import CARD_3DS, CARD_OK, connected_account, save_card

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana(tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima", email="ana@mail.test")


@pytest.fixture
def account(app_on_fake, tenant):
    return StripeAccount.objects.create(
        practice=tenant.practice, stripe_account_id=connected_account(app_on_fake), charges_enabled=True
    )


def posts(fake, path):
    return [r for r in fake.control.requests() if r["method"] == "POST" and r["path"] == path]


def link_from(message) -> str:
    found = re.search(r"https?://\S+/stripe/cards/[^/\s]+/", message.body)
    assert found, message.body
    return found.group(0)


def test_request_card_details_emails_a_link_that_saves_a_card(
    app_on_fake, account, tenant, ana, django_capture_on_commit_callbacks
):
    # Given Ana's Billing tab offers Request card details
    staff = signed_in(tenant.biller)
    tab = staff.get(url(tenant, "clients:billing", client_id=ana.pk)).content.decode()
    assert "Request card details" in tab and "No saved cards." in tab

    # When the biller requests her card details
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(url(tenant, "payments:card_request", client_id=ana.pk), follow=True)
    assert CARD_REQUEST_SENT.format(to="ana@mail.test") in response.content.decode()

    # Then Ana gets an email with a link to save a card, which opens without signing in
    (message,) = mail.outbox
    assert message.to == ["ana@mail.test"] and message.subject == f"Save a card with {tenant.practice.name}"
    link = link_from(message).replace("http://127.0.0.1:8000", "")
    page = Browser().get(link)
    assert page.status_code == 200 and "Save a card" in page.content.decode()
    assert not posts(app_on_fake, "/v1/checkout/sessions")  # opening the link starts nothing

    # When she clicks Save a card, Stripe Checkout (setup mode) opens on the practice's account
    start = Browser().post(link + "start/")
    assert start.status_code == 303 and start["Location"].startswith(app_on_fake.url + "/c/pay/")
    setup = CardSetup.objects.get()
    customer = StripeCustomer.objects.get()
    (made,) = posts(app_on_fake, "/v1/customers")
    assert made["idempotency_key"] == f"customer:{customer.pk}:create"
    assert made["stripe_account"] == account.stripe_account_id
    assert made["params"]["email"] == "ana@mail.test" and made["params"]["metadata"] == {"client": str(ana.pk)}
    (session,) = posts(app_on_fake, "/v1/checkout/sessions")
    assert session["idempotency_key"] == f"cardsetup:{setup.pk}:session"
    assert session["params"]["mode"] == "setup" and session["params"]["customer"] == customer.stripe_customer_id
    assert session["stripe_account"] == account.stripe_account_id

    # And back from Stripe before she saved anything: Processing, nothing stored
    return_url = reverse("card_setup_return", kwargs={"token": setup_token(setup)})
    assert "Processing" in Browser().get(return_url).content.decode()
    assert not SavedCard.objects.exists()

    # When she saves 4242 on Stripe's page and comes back
    assert app_on_fake.control.pay_session(setup.stripe_checkout_session_id, "4242424242424242")["outcome"] == (
        "complete"
    )
    page = Browser().get(return_url).content.decode()

    # Then the card is saved (brand, last 4 and expiry only) and is her default
    assert "Card saved." in page and "Visa •••• 4242" in page
    card = SavedCard.objects.get()
    assert (card.client, card.brand, card.last4, card.is_default) == (ana, "visa", "4242", True)
    assert card.stripe_payment_method_id.startswith("pm_") and card.exp_month == 12
    tab = staff.get(url(tenant, "clients:billing", client_id=ana.pk)).content.decode()
    assert "Visa •••• 4242" in tab and 'data-testid="saved-card-default"' in tab


def test_the_webhook_and_the_return_page_store_the_card_once(
    app_on_fake, account, ana, settings, django_capture_on_commit_callbacks
):
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = CONNECT_SECRET
    cards.card_setup_start(client=ana)
    setup = CardSetup.objects.get()
    app_on_fake.control.pay_session(setup.stripe_checkout_session_id, "4242424242424242")
    assert app_on_fake.control.wait_for_webhooks(timeout=10)
    with app_on_fake.webhooks.lock:
        completed = [
            i
            for i in app_on_fake.webhooks.received
            if i.path == "/connect" and json.loads(i.body)["type"] == "checkout.session.completed"
        ]
    assert completed

    with django_capture_on_commit_callbacks(execute=True):
        for item in completed * 2:
            response = Browser().post(
                reverse("stripe_webhook"),
                item.body,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=item.signature,
            )
            assert response.status_code == 200
    assert SavedCard.objects.count() == 1
    assert (
        "Card saved."
        in Browser().get(reverse("card_setup_return", kwargs={"token": setup_token(setup)})).content.decode()
    )
    assert SavedCard.objects.count() == 1
    setup.refresh_from_db()
    assert setup.status == CardSetup.Status.SAVED


def test_a_card_that_asks_for_authentication_is_saved_once_authenticated(app_on_fake, account, ana):
    card = save_card(app_on_fake, ana, CARD_3DS)
    assert (card.brand, card.last4, card.is_default) == ("visa", "3155", True)


def test_a_double_click_reuses_one_customer_and_one_session(app_on_fake, account, ana):
    first = cards.card_setup_start(client=ana)
    second = cards.card_setup_start(client=ana)
    assert first == second
    assert StripeCustomer.objects.count() == 1 and CardSetup.objects.count() == 1
    assert len(posts(app_on_fake, "/v1/customers")) == 1
    assert {r["idempotency_key"] for r in posts(app_on_fake, "/v1/checkout/sessions")} == {
        f"cardsetup:{CardSetup.objects.get().pk}:session"
    }


def test_the_customer_carries_the_payers_name_and_email(app_on_fake, account, tenant):
    payer = PayerFactory(practice=tenant.practice, first_name="Rua", last_name="Lima", email="rua@mail.test")
    child = ClientFactory(practice=tenant.practice, payer=payer)
    cards.card_setup_start(client=child)
    (made,) = posts(app_on_fake, "/v1/customers")
    assert (made["params"]["name"], made["params"]["email"]) == ("Rua Lima", "rua@mail.test")


def test_a_second_card_is_not_the_default_until_staff_choose_it(app_on_fake, account, tenant, ana):
    first = save_card(app_on_fake, ana, CARD_OK)
    second = save_card(app_on_fake, ana, "5555 5555 5555 4444")
    assert (first.is_default, second.is_default) == (True, False)

    staff = signed_in(tenant.biller)
    response = staff.post(url(tenant, "payments:card_default", client_id=ana.pk), {"card": second.pk}, follow=True)
    assert "Mastercard •••• 4444 is now the default card." in response.content.decode()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_default, second.is_default) == (False, True)


def test_removing_a_card_detaches_it_at_stripe(app_on_fake, account, tenant, ana):
    card = save_card(app_on_fake, ana, CARD_OK)
    stripe = app_on_fake.client()
    opts = {"stripe_account": account.stripe_account_id}
    customer = card.customer.stripe_customer_id
    assert [pm.id for pm in stripe.v1.customers.payment_methods.list(customer, options=opts).data] == [
        card.stripe_payment_method_id
    ]

    staff = signed_in(tenant.biller)
    response = staff.post(url(tenant, "payments:card_remove", client_id=ana.pk), {"card": card.pk}, follow=True)

    assert CARD_REMOVED.format(card="Visa •••• 4242") in response.content.decode()
    assert stripe.v1.customers.payment_methods.list(customer, options=opts).data == []
    (detach,) = posts(app_on_fake, f"/v1/payment_methods/{card.stripe_payment_method_id}/detach")
    assert detach["idempotency_key"] == f"cardremove:{card.pk}:detach"
    card.refresh_from_db()
    assert card.removed_at is not None and card.is_default is False
    assert "No saved cards." in staff.get(url(tenant, "clients:billing", client_id=ana.pk)).content.decode()

    # Removing it again (a second tab): it is gone, nothing more happens at Stripe
    again = staff.post(url(tenant, "payments:card_remove", client_id=ana.pk), {"card": card.pk}, follow=True)
    assert CARD_GONE in again.content.decode()
    assert len(posts(app_on_fake, f"/v1/payment_methods/{card.stripe_payment_method_id}/detach")) == 1


def test_a_removal_whose_answer_was_lost_finishes_on_the_next_try(app_on_fake, account, tenant, ana, settings):
    card = save_card(app_on_fake, ana, CARD_OK)
    # Detached at Stripe, but the app never heard: the row still says saved.
    app_on_fake.client().v1.payment_methods.detach(
        card.stripe_payment_method_id,
        options={"stripe_account": account.stripe_account_id, "idempotency_key": "test:detach"},
    )
    cards.card_remove(practice=tenant.practice, client=ana, card_id=card.pk, actor=tenant.biller)
    card.refresh_from_db()
    assert card.removed_at is not None


def test_another_practices_client_or_card_is_not_found(app_on_fake, account, tenant, other_tenant, ana):
    mine = save_card(app_on_fake, ana, CARD_OK)
    theirs = ClientFactory(practice=other_tenant.practice)
    staff = signed_in(tenant.biller)
    for name in ("payments:card_request", "payments:card_default", "payments:card_remove"):
        assert staff.post(url(tenant, name, client_id=theirs.pk), {"card": mine.pk}).status_code == 404

    # Their biller naming my card on their own client: not found, nothing detached.
    them = signed_in(other_tenant.biller)
    response = them.post(url(other_tenant, "payments:card_remove", client_id=theirs.pk), {"card": mine.pk}, follow=True)
    assert CARD_GONE in response.content.decode()
    mine.refresh_from_db()
    assert mine.removed_at is None
    assert not [r for r in app_on_fake.control.requests() if r["path"].endswith("/detach")]


def test_a_clinician_cannot_manage_cards(app_on_fake, account, tenant, ana):
    ana.clinicians.add(tenant.clinician)
    clinician = signed_in(tenant.clinician)
    assert clinician.post(url(tenant, "payments:card_request", client_id=ana.pk)).status_code == 403
    assert (
        "Request card details" not in clinician.get(url(tenant, "clients:billing", client_id=ana.pk)).content.decode()
    )


def test_no_email_or_no_stripe_explains_instead_of_sending(app_on_fake, tenant):
    quiet = ClientFactory(practice=tenant.practice, email="")
    staff = signed_in(tenant.biller)
    # No connected account: the tab offers nothing to save cards with.
    assert "Request card details" not in staff.get(url(tenant, "clients:billing", client_id=quiet.pk)).content.decode()

    StripeAccount.objects.create(
        practice=tenant.practice, stripe_account_id=connected_account(app_on_fake), charges_enabled=True
    )
    tab = staff.get(url(tenant, "clients:billing", client_id=quiet.pk)).content.decode()
    assert CARD_NO_EMAIL in tab
    response = staff.post(url(tenant, "payments:card_request", client_id=quiet.pk), follow=True)
    assert CARD_NO_EMAIL in response.content.decode()
    assert not mail.outbox


def test_a_tampered_or_expired_link_saves_nothing(app_on_fake, account, ana):
    token = card_link_token(ana)
    assert Browser().get(reverse("card_link", kwargs={"token": token[:-2] + "xx"})).status_code == 404
    assert Browser().post(reverse("card_link_start", kwargs={"token": token[:-2] + "xx"})).status_code == 404
    later = timezone.now() + cards.CARD_LINK_MAX_AGE + timedelta(minutes=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.core.signing.time.time", lambda: later.timestamp())
        assert Browser().get(reverse("card_link", kwargs={"token": token})).status_code == 410
        assert Browser().post(reverse("card_link_start", kwargs={"token": token})).status_code == 410
    assert not posts(app_on_fake, "/v1/checkout/sessions")


def test_the_database_refuses_two_default_cards(app_on_fake, account, ana):
    first = save_card(app_on_fake, ana, CARD_OK)
    second = save_card(app_on_fake, ana, "5555 5555 5555 4444")
    with pytest.raises(IntegrityError), transaction.atomic():
        SavedCard.objects.filter(pk=second.pk).update(is_default=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        SavedCard.objects.filter(pk=first.pk).update(removed_at=timezone.now())


def test_the_billing_tab_lists_the_live_accounts_cards_reading_the_account_once(app_on_fake, account, tenant, ana):
    card = save_card(app_on_fake, ana, CARD_OK)
    staff = signed_in(tenant.biller)
    with CaptureQueriesContext(connection) as queries:
        html = staff.get(url(tenant, "clients:billing", client_id=ana.pk)).content.decode()
    assert "Visa •••• 4242" in html
    # The cards, whether the account takes charges and whether a card request can be sent
    # all ask of the same account: the tab never reads it on its own (one query says what
    # the panels show, then the cards are read with the live account as a subquery).
    sqls = [q["sql"] for q in queries.captured_queries]
    assert [s for s in sqls if s.startswith('SELECT "payments_stripeaccount"')] == []
    assert len([s for s in sqls if s.startswith('SELECT "payments_savedcard"')]) == 1, sqls

    # A card saved on an account the practice has left cannot be charged: it is not listed,
    # while disconnected nor once another account is connected.
    StripeAccount.objects.filter(pk=account.pk).update(disconnected_at=timezone.now())
    assert cards.client_cards(tenant.practice, ana) == []
    StripeAccount.objects.filter(pk=account.pk).update(disconnected_at=None, stripe_account_id="acct_newer")
    html = staff.get(url(tenant, "clients:billing", client_id=ana.pk)).content.decode()
    assert "Visa •••• 4242" not in html and "No saved cards." in html
    assert cards.client_cards(tenant.practice, ana) == []
    card.refresh_from_db()
    assert card.removed_at is None
