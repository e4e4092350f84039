"""Every client portal URL, walked in a client's (and a payer's) portal session with another
client's ids, from the same practice and from another practice, is a 404 (GET and POST);
portal sessions reach no staff page, and staff sessions are not portal sessions.

The walk reads the ``portal`` URL namespace from the URL configuration itself, so a portal
URL added by any app is covered the moment it exists. A URL whose kwargs this file cannot
fill fails the test: add the kwarg to ``foreign_objects`` (built by ``objects_of``) with an
object that belongs to the other client.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client as Browser
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from billing import services
from clients.models import Client, EmailChange, Payer
from clients.portal import STAFF_NOT_PORTAL
from payments.cards import setup_token
from payments.checkout import attempt_token
from payments.models import CardChargeAttempt, CardSetup, CheckoutAttempt, SavedCard, StripeCustomer
from tests.conftest import Tenant
from tests.factories import ClientFactory, PayerFactory, issued_invoice
from tests.helpers import signed_in
from tests.portal import grant_portal, portal_signed_in
from tests.test_tenancy_urls import STAFF_PATTERNS

# Portal pages used before there is a portal identity: they show nobody's records.
BEFORE_SIGN_IN = {"portal:signin", "portal:signin_sent", "portal:signin_link", "portal:choose", "portal:signout"}
MISSING = 987654321


def portal_patterns() -> Iterator[tuple[str, tuple[str, ...]]]:
    """(url name, kwarg names) of every named URL in the ``portal`` namespace."""

    def walk(patterns, namespace: str, kwargs: list[str], inside: bool) -> Iterator[tuple[str, tuple[str, ...]]]:  # type: ignore[no-untyped-def]
        for p in patterns:
            names = kwargs + list(getattr(p.pattern, "converters", {}).keys())
            if isinstance(p, URLResolver):
                ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
                yield from walk(p.url_patterns, ns, names, inside or p.namespace == "portal")
            elif isinstance(p, URLPattern) and p.name and inside:
                yield f"{namespace}{p.name}", tuple(names)

    yield from walk(get_resolver().url_patterns, "", [], False)


PORTAL_PATTERNS = sorted(set(portal_patterns()))
SIGNED_IN_PATTERNS = [(name, kw) for name, kw in PORTAL_PATTERNS if name not in BEFORE_SIGN_IN]
WITH_IDS = [(name, kw) for name, kw in SIGNED_IN_PATTERNS if kw]


def test_the_walk_finds_the_portal_urls():
    names = {name for name, _ in PORTAL_PATTERNS}
    assert {"portal:home", "portal:documents", "portal:receipt_pdf", "portal:profile", "portal:email_confirm"} <= names
    assert all(name.startswith("portal:") for name in names)
    assert names >= BEFORE_SIGN_IN, "a page before sign-in was renamed: update BEFORE_SIGN_IN"


# --- what another client has -----------------------------------------------------------------


def objects_of(tenant: Tenant, client: Client) -> dict[str, object]:
    """One object of ``client`` for every kind of id a portal URL takes, keyed by the
    kwarg's name (or by "url name:kwarg" where one URL reads a kwarg its own way).
    Each app adds the kwargs of its own portal URLs here as it grows."""
    practice = tenant.practice
    invoice = issued_invoice(practice, client, tenant.biller, "120.00")
    payment = services.payment_record_manual(
        practice=practice,
        client=client,
        actor=tenant.biller,
        amount=Decimal("50"),
        received_on=practice.local_today(),
        method="cash",
    ).payment
    token = f"email-change-of-{client.pk}"
    EmailChange.objects.create(
        practice=practice,
        client=client,
        new_email=f"new-{client.pk}@mail.test",
        token_hash=EmailChange.hash_token(token),
        expires_at=timezone.now() + timedelta(hours=1),
    )
    attempt = CheckoutAttempt.objects.create(
        practice=practice,
        invoice_id=invoice.pk,
        client=client,
        amount=invoice.balance,
        currency=invoice.currency,
        source=CheckoutAttempt.Source.PORTAL,
    )
    customer = StripeCustomer.objects.create(
        practice=practice, client=client, stripe_account_id="acct_walk", stripe_customer_id=f"cus_walk_{client.pk}"
    )
    card = SavedCard.objects.create(
        practice=practice,
        client=client,
        customer=customer,
        stripe_payment_method_id=f"pm_walk_{client.pk}",
        brand="visa",
        last4="4242",
        exp_month=12,
        exp_year=2039,
        is_default=True,
    )
    setup = CardSetup.objects.create(practice=practice, client=client, customer=customer)
    charge = CardChargeAttempt.objects.create(
        practice=practice,
        invoice=invoice,
        client=client,
        card=card,
        amount=invoice.balance,
        currency=invoice.currency,
        status=CardChargeAttempt.Status.FAILED,
        on_session=True,
    )
    return {
        "invoice_id": invoice.pk,
        "payment_id": payment.pk,
        "attempt_id": charge.pk,
        "card_id": card.pk,
        "portal:card_setup_return:token": setup_token(setup),
        "portal:card_setup_cancel:token": setup_token(setup),
        "portal:email_confirm:token": token,
        "portal:checkout_return:token": attempt_token(attempt),
        "portal:checkout_cancel:token": attempt_token(attempt),
    }


@dataclass
class Cast:
    ana: Client
    paula: Payer
    ben: Client
    twin: Client
    foreign: dict[str, dict[str, object]]


@pytest.fixture
def cast(tenant, other_tenant) -> Cast:
    """Ana, a client with portal access; Paula, a payer for Leo (with access); and the
    people whose things they must never reach: Ben at the same practice, and Ana's twin at
    another practice (same name, same email: the same person there)."""
    practice = tenant.practice
    ana = ClientFactory(practice=practice, first_name="Ana", last_name="Lima", email="ana@mail.test")
    paula = PayerFactory(practice=practice, first_name="Paula", last_name="Lima", email="paula@mail.test")
    leo = ClientFactory(practice=practice, first_name="Leo", last_name="Lima", payer=paula)
    ben = ClientFactory(practice=practice, first_name="Ben", last_name="Stone", email="ben@mail.test")
    twin = ClientFactory(practice=other_tenant.practice, first_name="Ana", last_name="Lima", email="ana@mail.test")
    grant_portal(ana, leo, ben, twin)
    # Ana and Leo have things of their own too, so a page that ignores the id cannot pass
    # by having nothing to show.
    objects_of(tenant, ana)
    objects_of(tenant, leo)
    foreign = {"same practice": objects_of(tenant, ben), "other practice": objects_of(other_tenant, twin)}
    return Cast(ana=ana, paula=paula, ben=ben, twin=twin, foreign=foreign)


def fill(name: str, kwarg_names: tuple[str, ...], objects: dict[str, object]) -> dict[str, object]:
    kwargs = {}
    for key in kwarg_names:
        value = objects.get(f"{name}:{key}", objects.get(key))
        if value is None:
            pytest.fail(f"URL {name!r} takes {key!r}: add an object of another client to objects_of()")
        kwargs[key] = value
    return kwargs


def missing(name: str, kwarg_names: tuple[str, ...], kwargs: dict[str, object]) -> str:
    """The URL with ids that exist nowhere (and a token nobody was given)."""
    return reverse(name, kwargs={k: MISSING if isinstance(v, int) else f"no-such-{k}" for k, v in kwargs.items()})


@pytest.mark.parametrize("who", ["client", "payer"])
@pytest.mark.parametrize("whose", ["same practice", "other practice"])
@pytest.mark.parametrize(("name", "kwarg_names"), WITH_IDS, ids=[n for n, _ in WITH_IDS])
def test_another_clients_objects_are_404(name, kwarg_names, whose, who, cast):
    browser = portal_signed_in(cast.ana if who == "client" else cast.paula)
    kwargs = fill(name, kwarg_names, cast.foreign[whose])
    url = reverse(name, kwargs=kwargs)

    for method in ("get", "post"):
        response = getattr(browser, method)(url)
        if response.status_code == 405:
            # A view that takes only the other method answers 405 before looking anything
            # up; it must answer exactly so for ids that do not exist, so nothing leaks.
            absent = getattr(browser, method)(missing(name, kwarg_names, kwargs))
            assert (absent.status_code, absent.content) == (405, response.content)
            continue
        assert response.status_code == 404, f"{who}: {method.upper()} {url} ({whose}) gave {response.status_code}"


# --- sessions of the other kind ---------------------------------------------------------------


def any_kwargs(name: str, kwarg_names: tuple[str, ...], cast: Cast) -> dict[str, object]:
    return fill(name, kwarg_names, cast.foreign["same practice"]) if kwarg_names else {}


@pytest.mark.parametrize(("name", "kwarg_names"), SIGNED_IN_PATTERNS, ids=[n for n, _ in SIGNED_IN_PATTERNS])
def test_a_staff_session_is_not_a_portal_session(name, kwarg_names, tenant, cast):
    # The practice's owner, who may see every client's records on the staff pages
    browser = signed_in(tenant.owner)
    url = reverse(name, kwargs=any_kwargs(name, kwarg_names, cast))

    for method in ("get", "post"):
        response = getattr(browser, method)(url)
        if response.status_code == 405:
            continue
        assert response.status_code == 403, f"{method.upper()} {url} gave {response.status_code}"
        assert STAFF_NOT_PORTAL in response.content.decode()


@pytest.mark.parametrize(("name", "kwarg_names"), SIGNED_IN_PATTERNS, ids=[n for n, _ in SIGNED_IN_PATTERNS])
def test_without_a_portal_session_a_portal_page_asks_to_sign_in(name, kwarg_names, cast):
    url = reverse(name, kwargs=any_kwargs(name, kwarg_names, cast))

    for method in ("get", "post"):
        response = getattr(Browser(), method)(url)
        if response.status_code == 405:
            continue
        assert response.status_code == 302, f"{method.upper()} {url} gave {response.status_code}"
        assert response["Location"].startswith(reverse("portal:signin"))


STAFF_PAGES = [(name, kw) for name, kw in STAFF_PATTERNS] + [("home", ()), ("admin:index", ())]


@pytest.mark.parametrize(("name", "kwarg_names"), STAFF_PAGES, ids=[n for n, _ in STAFF_PAGES])
def test_a_portal_session_reaches_no_staff_page(name, kwarg_names, tenant, cast):
    # Ana, signed in to the portal of the very practice whose staff pages these are
    browser = portal_signed_in(cast.ana)
    kwargs = {key: (tenant.practice.slug if key == "practice_slug" else 1) for key in kwarg_names}
    url = reverse(name, kwargs=kwargs)

    for method in ("get", "post"):
        response = getattr(browser, method)(url)
        if response.status_code == 405:
            continue
        assert response.status_code == 302, f"{method.upper()} {url} gave {response.status_code}"
        location = response["Location"]
        assert location.startswith(("/signin/", "/admin/login/")), f"{method.upper()} {url} went to {location}"

    # And the portal session is still there: it was never taken for a staff one
    assert browser.get(reverse("portal:profile")).status_code == 200
