"""Every staff URL, walked with another practice's ids, is a 404 (GET and POST).

The walk reads the URL configuration itself, so a URL added by any app is covered the
moment it exists. A URL whose kwargs this file cannot fill fails the test: add the
kwarg to ``foreign_ids`` with an object that belongs to the other practice.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from appointments.models import BillingDetail
from billing import services
from billing.models import Export, Package
from practice.models import Membership, StaffInvite, TaxRate
from tests.factories import ClientFactory, PayerFactory, ServiceFactory, make_appointment, past_start
from tests.helpers import signed_in


def staff_patterns() -> Iterator[tuple[str, list[str]]]:
    """(url name, kwarg names) of every named URL under /p/<practice_slug>/."""

    def walk(patterns, namespace: str, kwargs: list[str]) -> Iterator[tuple[str, list[str]]]:
        for p in patterns:
            names = kwargs + list(getattr(p.pattern, "converters", {}).keys())
            if isinstance(p, URLResolver):
                ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
                yield from walk(p.url_patterns, ns, names)
            elif isinstance(p, URLPattern) and p.name and "practice_slug" in names:
                yield f"{namespace}{p.name}", names

    yield from walk(get_resolver().url_patterns, "", [])


STAFF_PATTERNS = sorted(set((name, tuple(kw)) for name, kw in staff_patterns()))


def test_the_walk_finds_the_staff_urls():
    names = {name for name, _ in STAFF_PATTERNS}
    assert {"dashboard", "staff", "staff_change_role", "audit_log"} <= names


@pytest.fixture
def foreign_ids(other_tenant) -> dict[str, int]:
    """One object of the *other* practice for every kind of id a staff URL takes."""
    other = other_tenant.practice
    invite = StaffInvite.objects.create(
        practice=other,
        email="someone@twin.test",
        role="clinician",
        token_hash="0" * 64,
        invited_by=other_tenant.owner,
        expires_at=timezone.now() + timedelta(days=7),
    )
    return {
        "membership_id": Membership.objects.get(practice=other, user=other_tenant.clinician).pk,
        "invite_id": invite.pk,
        **client_ids(other_tenant),
        **appointment_ids(other_tenant),
        **billing_ids(other_tenant),
        **package_ids(other_tenant),
        # Jobs belong to no practice: a name that is not a registered job is the 404 case.
        "job_name": "no-such-job",  # type: ignore[dict-item]
    }


# Each app adds the kwarg names of its own URLs here as it grows.


def client_ids(other_tenant) -> dict[str, int]:
    payer = PayerFactory(practice=other_tenant.practice)
    client = ClientFactory(practice=other_tenant.practice, payer=payer, clinicians=[other_tenant.clinician])
    return {"client_id": client.pk}


def appointment_ids(other_tenant) -> dict[str, int]:
    practice = other_tenant.practice
    tax_rate = TaxRate.objects.create(practice=practice, name="Twin GST", percent="15")
    service = ServiceFactory(practice=practice, tax_rate=tax_rate)
    client = ClientFactory(practice=practice)
    appointment = make_appointment(
        practice, other_tenant.owner, other_tenant.clinician, [client], [service], start=past_start(practice)
    )
    return {
        "appointment_id": appointment.pk,
        "service_id": service.pk,
        "tax_rate_id": tax_rate.pk,
        "detail_id": BillingDetail.objects.get(appointment=appointment).pk,
    }


def billing_ids(other_tenant) -> dict[str, int]:
    practice = other_tenant.practice
    client = ClientFactory(practice=practice)
    invoice = services.invoice_create(
        practice=practice,
        client=client,
        actor=other_tenant.owner,
        lines=[services.LineInput(description="Twin session", unit_price=Decimal("100"))],
        issue=True,
    )
    payment = services.payment_record_manual(
        practice=practice,
        client=client,
        actor=other_tenant.owner,
        amount=Decimal("40"),
        received_on=practice.local_today(),
        method="cash",
    ).payment
    export = Export.objects.create(practice=practice, params={}, filename="twin.zip")
    return {"invoice_id": invoice.pk, "payment_id": payment.pk, "export_id": export.pk}


def package_ids(other_tenant) -> dict[str, int]:
    practice = other_tenant.practice
    package = Package.objects.create(
        practice=practice, name="Twin 5", service=ServiceFactory(practice=practice), sessions=5, price=Decimal("500")
    )
    client = ClientFactory(practice=practice)
    purchase = services.package_sell(practice=practice, client=client, package=package, actor=other_tenant.owner)
    return {"package_id": package.pk, "purchase_id": purchase.pk}


@pytest.mark.parametrize(("name", "kwarg_names"), STAFF_PATTERNS, ids=[n for n, _ in STAFF_PATTERNS])
def test_other_practice_objects_are_404(name, kwarg_names, tenant, other_tenant, foreign_ids):
    client = signed_in(tenant.owner)
    kwargs = {"practice_slug": tenant.practice.slug}
    id_kwargs = [k for k in kwarg_names if k != "practice_slug"]
    for key in id_kwargs:
        if key not in foreign_ids:
            pytest.fail(f"URL {name!r} takes {key!r}: add an object of the other practice to foreign_ids")
        kwargs[key] = foreign_ids[key]

    # Our own practice in the URL, the other practice's object in the ids.
    if id_kwargs:
        url = reverse(name, kwargs=kwargs)
        missing_url = reverse(name, kwargs={**kwargs, **{k: 987654321 for k in id_kwargs}})
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            if response.status_code == 405:
                # A POST-only action answers GET with 405 before looking anything up; it
                # must answer exactly so for an id that does not exist, so nothing leaks.
                missing = getattr(client, method)(missing_url)
                assert (missing.status_code, missing.content) == (405, response.content)
                continue
            assert response.status_code == 404, f"{method.upper()} {url} gave {response.status_code}"
            assert b"Page not found" in response.content

    # The other practice's slug: the user is not a member there, so every method is a 404,
    # the same page as a practice that does not exist.
    url = reverse(name, kwargs={**kwargs, "practice_slug": other_tenant.practice.slug})
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code == 404, f"{method.upper()} {url} gave {response.status_code}"
        assert b"Page not found" in response.content


def test_unknown_slug_is_the_same_404(owner_client):
    response = owner_client.get("/p/no-such-practice/")
    assert response.status_code == 404
    assert b"Page not found" in response.content
