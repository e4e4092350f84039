"""The demo practices. Every step is get-or-create, so loading twice adds nothing."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from .models import Membership, Practice, Role, User

HARBOUR = {
    "slug": "harbour-street",
    "name": "Harbour Street Therapy",
    "timezone": "America/New_York",
    "currency": "USD",
    "locale": "en_US",
    "address": "14 Harbour Street\nPortland, ME 04101\nUnited States",
    "email": "hello@harbour.example",
}
KOWHAI = {
    "slug": "kowhai",
    "name": "Kowhai Counselling",
    "timezone": "Pacific/Auckland",
    "currency": "NZD",
    "locale": "en_NZ",
    "address": "3 Kowhai Lane\nWellington 6011\nNew Zealand",
    "email": "kia-ora@kowhai.example",
}
HARBOUR_STAFF = [
    ("owner@harbour.example", "Olivia", "Owens", Role.OWNER),
    ("admin@harbour.example", "Adam", "Archer", Role.ADMIN),
    ("biller@harbour.example", "Bella", "Brooks", Role.BILLER),
    ("clinician1@harbour.example", "Clara", "Chen", Role.CLINICIAN),
    ("clinician2@harbour.example", "Daniel", "Diaz", Role.CLINICIAN),
    ("clinician3@harbour.example", "Erin", "Evans", Role.CLINICIAN),
]
KOWHAI_STAFF = [("owner@kowhai.example", "Mere", "Ngata", Role.OWNER)]


def _user(email: str, first: str, last: str) -> User:
    user, created = User.objects.get_or_create(email=email, defaults={"first_name": first, "last_name": last})
    if created:
        user.set_password(settings.DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user


def _practice(fields: dict[str, str], staff: list[tuple[str, str, str, Role]]) -> Practice:
    practice, _ = Practice.objects.get_or_create(slug=fields["slug"], defaults=fields)
    for email, first, last, role in staff:
        Membership.objects.get_or_create(user=_user(email, first, last), practice=practice, defaults={"role": role})
    return practice


@transaction.atomic
def load_demo_data() -> str:
    harbour = _practice(HARBOUR, HARBOUR_STAFF)
    kowhai = _practice(KOWHAI, KOWHAI_STAFF)
    extra = []
    for loader in _extension_loaders():
        extra.append(loader(harbour=harbour, kowhai=kowhai))
    return ", ".join([f"{Practice.objects.count()} practices", f"{User.objects.count()} users", *filter(None, extra)])


def _extension_loaders():  # type: ignore[no-untyped-def]
    """Later apps add their demo rows through a ``demo.load(harbour=, kowhai=)`` function."""
    import importlib

    loaders = []
    for app in ("clients", "appointments", "billing", "payments"):
        try:
            module = importlib.import_module(f"{app}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.demo":
                raise
            continue
        loaders.append(module.load)
    return loaders
