"""Issue 15, part 4: Payment methods in the client portal. Add a card (Checkout in setup
mode on the fake Stripe, back to the portal), remove one (detached at Stripe), choose the
default; every form carries a one-time submission key; another client's card is a 404."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client as Browser

from billing.submission import PAGE_OUT_OF_DATE, submission_key_new
from payments.cards import setup_token
from payments.models import CardSetup, SavedCard, StripeAccount
from practice.models import AuditLog
from tests.factories import ClientFactory
from tests.portal import grant_portal, portal_session_key, portal_signed_in

from .helpers import CARD_OK, connected_account, pay_on_page, save_card

pytestmark = pytest.mark.django_db

CARD_MASTERCARD = "5555 5555 5555 4444"


@pytest.fixture
def ana(tenant):
    client = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima", email="ana@mail.test")
    grant_portal(client)
    return client


@pytest.fixture
def account(app_on_fake, tenant):
    return StripeAccount.objects.create(
        practice=tenant.practice, stripe_account_id=connected_account(app_on_fake), charges_enabled=True
    )


def test_add_a_card_on_stripes_page_and_come_back_to_payment_methods(app_on_fake, account, ana):
    browser = portal_signed_in(ana)
    assert "No saved cards yet." in browser.get("/portal/payment-methods/").content.decode()

    response = browser.post("/portal/payment-methods/add/")
    # A double click is the same Stripe page (the open setup session is reused).
    assert browser.post("/portal/payment-methods/add/")["Location"] == response["Location"]

    assert response.status_code == 303
    setup = CardSetup.objects.get(client=ana)
    assert response["Location"] == setup.session_url and response["Location"].startswith(app_on_fake.url)
    creates = [r for r in app_on_fake.control.requests() if r["path"] == "/v1/checkout/sessions"]
    assert {r["params"]["mode"] for r in creates} == {"setup"}
    assert {r["idempotency_key"] for r in creates} == {f"cardsetup:{setup.pk}:session"}
    # The client enters the card on Stripe's page, which sends them back to the portal.
    paid = pay_on_page(app_on_fake, setup.session_url, CARD_OK)
    back = urlsplit(paid.headers["Location"])
    assert back.path.startswith("/portal/payment-methods/setup/") and back.path.endswith("/return/")
    page = browser.get(f"{back.path}?{back.query}", follow=True).content.decode()

    assert "Visa •••• 4242 is saved. You can pay with it in one click." in page
    card = SavedCard.objects.get(client=ana)
    assert card.is_default and card.label == "Visa •••• 4242"
    assert 'data-testid="portal-card-default">Default' in page


def test_coming_back_without_a_card_saves_nothing(app_on_fake, account, ana):
    browser = portal_signed_in(ana)
    browser.post("/portal/payment-methods/add/")
    setup = CardSetup.objects.get(client=ana)
    (create,) = [r for r in app_on_fake.control.requests() if r["path"] == "/v1/checkout/sessions"]
    cancel = urlsplit(create["params"]["cancel_url"]).path
    assert cancel.startswith("/portal/payment-methods/setup/")

    page = browser.get(cancel, follow=True).content.decode()

    assert "No card was saved." in page and not SavedCard.objects.exists()
    assert setup.status == CardSetup.Status.OPEN


def test_choose_the_default_and_remove_a_card_detached_at_stripe(app_on_fake, account, tenant, ana):
    visa = save_card(app_on_fake, ana, CARD_OK)
    master = save_card(app_on_fake, ana, CARD_MASTERCARD)
    browser = portal_signed_in(ana)

    page = browser.post(f"/portal/payment-methods/{master.pk}/default/", follow=True).content.decode()

    assert "Mastercard •••• 4444 is now the default card." in page
    master.refresh_from_db()
    visa.refresh_from_db()
    assert master.is_default and not visa.is_default
    assert AuditLog.objects.filter(action="client.card_default_set", actor_label="portal:ana@mail.test").exists()

    page = browser.post(f"/portal/payment-methods/{visa.pk}/remove/", follow=True).content.decode()

    assert "Visa •••• 4242 removed. It can no longer be charged." in page
    visa.refresh_from_db()
    assert visa.removed_at is not None
    state = app_on_fake.control.call("GET", "state")
    assert state[visa.stripe_payment_method_id]["customer"] is None
    (detach,) = [r for r in app_on_fake.control.requests() if r["path"].endswith("/detach")]
    assert detach["idempotency_key"] == f"cardremove:{visa.pk}:detach"
    assert "Visa •••• 4242" not in browser.get("/portal/payment-methods/").content.decode()
    # A removed card is gone: removing it again is a 404.
    assert browser.post(f"/portal/payment-methods/{visa.pk}/remove/").status_code == 404


def test_every_form_needs_its_submission_key_and_a_repeat_changes_nothing(app_on_fake, account, ana):
    visa = save_card(app_on_fake, ana, CARD_OK)
    session = portal_session_key(ana)
    plain = Browser()
    plain.cookies[settings.SESSION_COOKIE_NAME] = session

    refused = plain.post(f"/portal/payment-methods/{visa.pk}/remove/", follow=True)
    assert PAGE_OUT_OF_DATE in refused.content.decode()
    visa.refresh_from_db()
    assert visa.removed_at is None

    key = submission_key_new()
    plain.post(f"/portal/payment-methods/{visa.pk}/remove/", {"submission_key": key})
    again = plain.post(f"/portal/payment-methods/{visa.pk}/remove/", {"submission_key": key}, follow=True)
    assert "This was already recorded." in again.content.decode()
    assert len([r for r in app_on_fake.control.requests() if r["path"].endswith("/detach")]) == 1

    page = plain.get("/portal/payment-methods/").content.decode()
    assert page.count('name="submission_key"') >= 1


def test_another_clients_card_is_not_found(app_on_fake, account, tenant, other_tenant, ana):
    save_card(app_on_fake, ana, CARD_OK)
    ben = ClientFactory(practice=tenant.practice, email="ben@mail.test")
    bens = save_card(app_on_fake, ben, CARD_OK)
    other_account = StripeAccount.objects.create(
        practice=other_tenant.practice, stripe_account_id=connected_account(app_on_fake), charges_enabled=True
    )
    assert other_account
    far = ClientFactory(practice=other_tenant.practice, email="far@mail.test")
    fars = save_card(app_on_fake, far, CARD_OK)
    browser = portal_signed_in(ana)

    for card in (bens, fars):
        assert browser.post(f"/portal/payment-methods/{card.pk}/default/").status_code == 404
        assert browser.post(f"/portal/payment-methods/{card.pk}/remove/").status_code == 404
        card.refresh_from_db()
        assert card.removed_at is None
    # Ben's setup's return page is not Ana's either.
    bens_setup = CardSetup.objects.get(client=ben)
    assert browser.get(f"/portal/payment-methods/setup/{setup_token(bens_setup)}/return/").status_code == 404
    assert "Visa •••• 4242" in browser.get("/portal/payment-methods/").content.decode()
    assert not [r for r in app_on_fake.control.requests() if r["path"].endswith("/detach")]


def test_without_stripe_no_card_can_be_added(tenant, ana):
    page = portal_signed_in(ana).get("/portal/payment-methods/").content.decode()
    assert "cannot save cards online at the moment" in page and "Add a card</button>" not in page
