"""Saving a client's card: Checkout in setup mode on the practice's connected account, a
signed link staff email to the client (Request card details), the default card, removing
a card (detached at Stripe).

The card is stored only from Stripe's own state: the SetupIntent re-read when the client
comes back from Checkout, or on checkout.session.completed (mode=setup), whichever comes
first; the PaymentMethod's id is unique, so it is stored once either way. Practica keeps
the PaymentMethod's id, brand, last 4 and expiry, never a card number.

These services take rows and ids, not requests: the portal (a client saving a card) and
intake reuse them as the staff pages do.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Subquery
from django.urls import reverse
from django.utils import timezone

from billing.payment_links import LinkExpired, LinkInvalid
from clients.autopay import autopay_unpause
from clients.models import AutoPayEnrolment, Client
from practice.actor import Actor
from practice.audit import audit_write
from practice.mail import email_queue
from practice.models import OutgoingEmail, Practice, User

from . import gateway
from .checkout import charges_account
from .gateway import CheckoutSession
from .models import CardSetup, SavedCard, StripeAccount, StripeCustomer
from .webhooks import WebhookContext, WebhookIgnored

logger = logging.getLogger(__name__)

CARDS_UNAVAILABLE = (
    "Cards cannot be saved until the practice takes payments online: connect Stripe in Settings > Online payments."
)
CARD_LINK_UNAVAILABLE = (
    "{practice} cannot save cards online at the moment. Nothing has been saved. Contact {practice} to pay another way."
)
CARD_NO_EMAIL = "No email address to send the link to: add one to the client or their payer."
CARD_REQUEST_SENT = "Card details requested: {to} has been emailed a link to save a card."
CARD_GONE = "That card is no longer saved for this client."
CARD_DEFAULT_SET = "{card} is now the default card."
CARD_REMOVED = "{card} removed. It can no longer be charged."
CARD_ALREADY_SAVED = "This card has already been saved. Thank you."
STRIPE_UNREACHABLE = "Stripe could not be reached, so nothing changed. Try again in a moment."

# A Request card details link works this long (Stripe's own session lasts 24 hours from
# the click on the page, not from the email).
CARD_LINK_MAX_AGE = timedelta(days=7)
# An open setup session younger than this is reused for the same client.
REUSE_FOR = timedelta(minutes=30)
_LINK_SALT = "payments.card-link.v1"
_SETUP_SALT = "payments.card-setup.v1"
SYSTEM = "payments"


class CardsRefused(Exception):
    """Why nothing was done; the message is for the person who asked."""


# --- links -----------------------------------------------------------------------------


def card_link_token(client: Client, *, replace_default: bool = False) -> str:
    data: dict[str, int] = {"p": client.practice_id, "c": client.pk}
    if replace_default:
        data["d"] = 1
    return signing.dumps(data, salt=_LINK_SALT, compress=True)


def card_link_url(client: Client, *, replace_default: bool = False) -> str:
    """The Save a card link (no sign-in). ``replace_default``: AutoPay's "update your card"
    link, whose card becomes the default and resumes a paused AutoPay."""
    path = reverse("card_link", kwargs={"token": card_link_token(client, replace_default=replace_default)})
    return settings.SITE_URL.rstrip("/") + path


def _card_link_data(token: str) -> dict[str, int]:
    try:
        data = signing.loads(token, salt=_LINK_SALT, max_age=CARD_LINK_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise LinkExpired from exc
    except signing.BadSignature as exc:
        raise LinkInvalid from exc
    if not isinstance(data, dict) or not isinstance(data.get("p"), int) or not isinstance(data.get("c"), int):
        raise LinkInvalid
    return data


def card_link_read(token: str) -> Client:
    """The client a Request card details link names; LinkExpired or LinkInvalid."""
    data = _card_link_data(token)
    client = Client.objects.select_related("practice", "payer").filter(practice_id=data["p"], pk=data["c"]).first()
    if client is None:
        raise LinkInvalid
    return client


def card_link_replaces_default(token: str) -> bool:
    """Whether the (valid) link is AutoPay's "update your card": its card becomes the default."""
    return _card_link_data(token).get("d") == 1


def setup_token(setup: CardSetup) -> str:
    """The setup's id, signed (no timestamp, so its return URL is the same each time)."""
    return signing.Signer(salt=_SETUP_SALT).sign(str(setup.pk))


def setup_from_token(token: str) -> CardSetup | None:
    try:
        pk = int(signing.Signer(salt=_SETUP_SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        return None
    return CardSetup.objects.select_related("practice", "client", "card").filter(pk=pk).first()


# --- reads -----------------------------------------------------------------------------


def client_cards(practice: Practice, client: Client) -> list[SavedCard]:
    """The client's saved cards that can be charged: not removed, and saved on the
    practice's connected account (a card on an account the practice left cannot be).
    One query: the live account is a subquery (no account, no cards)."""
    live = (
        StripeAccount.objects.filter(practice_id=practice.pk, disconnected_at__isnull=True)
        .order_by("pk")
        .values("stripe_account_id")[:1]
    )
    return list(
        SavedCard.objects.filter(
            practice=practice, client=client, removed_at__isnull=True, customer__stripe_account_id=Subquery(live)
        ).select_related("customer")
    )


def default_card(practice: Practice, client: Client) -> SavedCard | None:
    return next((card for card in client_cards(practice, client) if card.is_default), None)


def card_get_for_practice(practice: Practice, client: Client, card_id: int) -> SavedCard | None:
    """One of the client's saved cards (not removed), or None for any other id."""
    return (
        SavedCard.objects.select_related("customer")
        .filter(practice=practice, client=client, pk=card_id, removed_at__isnull=True)
        .first()
    )


def payer_name_and_email(client: Client) -> tuple[str, str]:
    """Who pays: the payer when the client has one, else the client (for Stripe's receipts)."""
    if client.payer_id and client.payer is not None:
        return str(client.payer), client.payer.email
    return client.full_name, client.email


# --- Request card details ------------------------------------------------------------------


def card_details_request_refusal(client: Client, *, takes_charges: bool | None = None) -> str | None:
    """Why a card details request cannot be sent, or None. ``takes_charges`` is whether the
    practice's account can take charges, when the caller has just read it."""
    if takes_charges is None:
        takes_charges = charges_account(client.practice_id) is not None
    if not takes_charges:
        return CARDS_UNAVAILABLE
    if not client.billing_email:
        return CARD_NO_EMAIL
    return None


def card_details_request(*, client: Client, actor: Actor | User) -> OutgoingEmail:
    """Email the client (or their payer) a link to save a card; CardsRefused when the
    practice cannot save cards or there is no address."""
    if refusal := card_details_request_refusal(client):
        raise CardsRefused(refusal)
    practice = client.practice
    to = client.billing_email
    with transaction.atomic():
        email = email_queue(
            key=f"card-request:{client.pk}:{uuid.uuid4().hex}",
            to=to,
            subject=f"Save a card with {practice.name}",
            template="card_request",
            context={
                "practice": practice,
                "link": card_link_url(client),
                "expires_days": CARD_LINK_MAX_AGE.days,
            },
            practice=practice,
            about=client,
            created_by=Actor.coerce(actor).user,
        )
        audit_write(
            practice=practice, actor=actor, action="client.card_details_requested", obj=client, changes={"to": to}
        )
    return email


# --- the Customer and the setup session ---------------------------------------------------


def stripe_customer_for(*, client: Client, account_id: str) -> StripeCustomer:
    """The client's Customer on ``account_id``, created at Stripe once.

    The row is committed first and keys the create, so two requests racing here (or a
    retry after a timeout) name the same key and Stripe answers both with one Customer."""
    try:
        with transaction.atomic():
            row, _ = StripeCustomer.objects.get_or_create(
                practice_id=client.practice_id, client=client, stripe_account_id=account_id
            )
    except IntegrityError:
        row = StripeCustomer.objects.get(practice_id=client.practice_id, client=client, stripe_account_id=account_id)
    if row.stripe_customer_id:
        return row
    name, email = payer_name_and_email(client)
    customer_id = gateway.customer_create(
        customer_row_id=row.pk, account_id=account_id, name=name, email=email, client_id=client.pk
    )
    StripeCustomer.objects.filter(pk=row.pk, stripe_customer_id__isnull=True).update(stripe_customer_id=customer_id)
    row.refresh_from_db()
    return row


def _url(name: str, setup: CardSetup) -> str:
    return settings.SITE_URL.rstrip("/") + reverse(name, kwargs={"token": setup_token(setup)})


def _link_return_urls(setup: CardSetup) -> tuple[str, str]:
    return _url("card_setup_return", setup), _url("card_setup_cancel", setup)


def card_setup_start(
    *,
    client: Client,
    return_urls: Callable[[CardSetup], tuple[str, str]] | None = None,
    make_default: bool = False,
) -> str:
    """The URL of a Checkout Session (setup mode) that saves a card for ``client``;
    CardsRefused (and no session) when the practice's account cannot take charges.
    ``return_urls(setup)`` gives where Stripe sends the client back (success, cancel):
    by default the Save a card link's pages; the portal's are its Payment methods.
    ``make_default``: the card saved replaces the default (AutoPay's update-your-card
    link) and resumes the client's AutoPay if it was paused."""
    practice = client.practice
    account = charges_account(practice.pk)
    if account is None:
        raise CardsRefused(CARD_LINK_UNAVAILABLE.format(practice=practice.name))
    customer = stripe_customer_for(client=client, account_id=account.stripe_account_id)
    assert customer.stripe_customer_id is not None
    with transaction.atomic():
        StripeCustomer.objects.select_for_update().get(pk=customer.pk)
        setup = (
            CardSetup.objects.filter(
                customer=customer,
                status__in=[CardSetup.Status.CREATED, CardSetup.Status.OPEN],
                created_at__gte=timezone.now() - REUSE_FOR,
                make_default=make_default,
            )
            .order_by("pk")
            .first()
        )
        if setup is None:
            setup = CardSetup.objects.create(
                practice=practice, client=client, customer=customer, make_default=make_default
            )
    success, cancel = (return_urls or _link_return_urls)(setup)
    session = gateway.setup_session_create(
        setup_id=setup.pk,
        account_id=account.stripe_account_id,
        customer_id=customer.stripe_customer_id,
        currency=practice.currency,
        metadata={"client": str(client.pk), "card_setup": str(setup.pk)},
        success_url=success + "?session_id={CHECKOUT_SESSION_ID}",
        cancel_url=cancel,
    )
    CardSetup.objects.filter(pk=setup.pk, status=CardSetup.Status.CREATED).update(
        stripe_checkout_session_id=session.id, session_url=session.url or "", status=CardSetup.Status.OPEN
    )
    if not session.url:
        # Stripe has this session complete (a repeat of a finished setup): store what it saved.
        setup_settled = card_setup_settle(session, account.stripe_account_id)
        if setup_settled is not None and setup_settled.status == CardSetup.Status.SAVED:
            raise CardsRefused(CARD_ALREADY_SAVED)
        raise CardsRefused(CARD_LINK_UNAVAILABLE.format(practice=practice.name))
    return session.url


def card_setup_refresh(setup: CardSetup) -> CardSetup:
    """Re-read the setup's session from Stripe and store its card (the return page's check)."""
    if setup.status in (CardSetup.Status.SAVED, CardSetup.Status.EXPIRED) or not setup.stripe_checkout_session_id:
        return setup
    account_id = setup.customer.stripe_account_id
    session = gateway.checkout_session_retrieve(setup.stripe_checkout_session_id, account_id)
    return card_setup_settle(session, account_id) or setup


def card_setup_settle(session: CheckoutSession, account_id: str) -> CardSetup | None:
    """Make the setup match ``session`` as Stripe has it: store the card (once) when its
    SetupIntent succeeded. None for a session that is none of ours."""
    setup = (
        CardSetup.objects.select_related("customer")
        .filter(stripe_checkout_session_id=session.id, customer__stripe_account_id=account_id)
        .first()
    )
    if setup is None:
        return None
    if setup.status in (CardSetup.Status.SAVED, CardSetup.Status.EXPIRED):
        return setup
    if session.status == "expired":
        CardSetup.objects.filter(pk=setup.pk, status__in=[CardSetup.Status.CREATED, CardSetup.Status.OPEN]).update(
            status=CardSetup.Status.EXPIRED
        )
        setup.refresh_from_db()
        return setup
    if session.status != "complete" or not session.setup_intent:
        return setup
    intent = gateway.setup_intent_retrieve(session.setup_intent, account_id)
    if intent.status != "succeeded" or not intent.payment_method:
        return setup
    card = gateway.payment_method_retrieve(intent.payment_method, account_id)
    if card.customer != setup.customer.stripe_customer_id:
        # Never stored against the wrong client: left for staff to look at.
        logger.error("card setup %s: payment method %s is not on customer %s", setup.pk, card.id, setup.customer_id)
        return setup
    return _card_store(setup.pk, card)


def _card_store(setup_id: int, found: gateway.Card) -> CardSetup:
    with transaction.atomic():
        setup = CardSetup.objects.select_for_update().select_related("practice", "client").get(pk=setup_id)
        if setup.status == CardSetup.Status.SAVED:
            return setup
        # The client's cards, locked, so two cards saved at once do not both become default.
        cards = list(SavedCard.objects.select_for_update().filter(client_id=setup.client_id).order_by("pk"))
        card = next((c for c in cards if c.stripe_payment_method_id == found.id), None)
        if card is None:
            replaces = setup.make_default and any(c.is_default and c.removed_at is None for c in cards)
            if replaces:
                # Cleared first: the partial unique index allows one default per client.
                SavedCard.objects.filter(pk__in=[c.pk for c in cards if c.is_default]).update(is_default=False)
            card = SavedCard.objects.create(
                practice_id=setup.practice_id,
                client_id=setup.client_id,
                customer_id=setup.customer_id,
                stripe_payment_method_id=found.id,
                brand=found.brand,
                last4=found.last4,
                exp_month=found.exp_month,
                exp_year=found.exp_year,
                is_default=replaces or not any(c.is_default and c.removed_at is None for c in cards),
            )
            audit_write(
                practice=setup.practice,
                actor=Actor.system(SYSTEM),
                action="client.card_saved",
                obj=setup.client,
                changes={"card": card.label, "expires": card.expiry, "default": card.is_default},
            )
            if setup.make_default:
                _autopay_resume_with(setup.client, card)
        setup.status = CardSetup.Status.SAVED
        setup.card = card
        setup.save(update_fields=["status", "card"])
    return setup


def _autopay_resume_with(client: Client, card: SavedCard) -> None:
    """A new card saved from AutoPay's update-your-card link: a paused AutoPay goes on with
    it (the client's consent names the default card, which this now is)."""
    enrolment = (
        AutoPayEnrolment.objects.select_for_update()
        .select_related("practice", "client")
        .filter(client=client, ended_at__isnull=True)
        .first()
    )
    if enrolment is not None:
        autopay_unpause(enrolment=enrolment, actor=Actor.system(SYSTEM), why=f"new card saved: {card.label}")


def card_setup_session_handle(context: WebhookContext) -> None:
    """checkout.session.completed (and .expired) of a setup-mode session: store its card
    from the session and SetupIntent re-read now."""
    session = gateway.checkout_session_read(dict(context.current()))
    if context.account is None or card_setup_settle(session, context.account) is None:
        raise WebhookIgnored("The Checkout Session is none of ours.")


# --- the default card, removing a card ----------------------------------------------------


def card_set_default(*, practice: Practice, client: Client, card_id: int, actor: Actor | User) -> SavedCard:
    """Make one of the client's saved cards the one Pay now (and AutoPay) charge."""
    with transaction.atomic():
        cards = list(
            SavedCard.objects.select_for_update()
            .filter(practice=practice, client=client, removed_at__isnull=True)
            .order_by("pk")
        )
        card = next((c for c in cards if c.pk == card_id), None)
        if card is None:
            raise CardsRefused(CARD_GONE)
        if card.is_default:
            return card
        # Cleared first: the partial unique index allows one default per client at a time.
        SavedCard.objects.filter(pk__in=[c.pk for c in cards if c.is_default]).update(is_default=False)
        card.is_default = True
        card.save(update_fields=["is_default"])
        audit_write(
            practice=practice, actor=actor, action="client.card_default_set", obj=client, changes={"card": card.label}
        )
    return card


def card_remove(*, practice: Practice, client: Client, card_id: int, actor: Actor | User) -> SavedCard:
    """Detach the card at Stripe (so it can never be charged), then mark it removed. A
    repeat after the detach went through finds it detached and finishes the removal."""
    card = card_get_for_practice(practice, client, card_id)
    if card is None:
        raise CardsRefused(CARD_GONE)
    try:
        gateway.payment_method_detach(
            card_id=card.pk, payment_method_id=card.stripe_payment_method_id, account_id=card.customer.stripe_account_id
        )
    except (gateway.StripeError, gateway.StripeUnanswered) as exc:
        logger.warning("card %s: detach failed: %s", card.pk, exc)
        raise CardsRefused(STRIPE_UNREACHABLE) from exc
    with transaction.atomic():
        card = SavedCard.objects.select_for_update().get(pk=card.pk)
        if card.removed_at is None:
            card.removed_at = timezone.now()
            card.is_default = False
            card.save(update_fields=["removed_at", "is_default"])
            audit_write(
                practice=practice, actor=actor, action="client.card_removed", obj=client, changes={"card": card.label}
            )
    return card
