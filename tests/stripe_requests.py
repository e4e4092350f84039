"""The whole test run's Stripe requests, and the check that the app's were all fit to send.

Issue 14: every request the app makes to Stripe carries, on a POST, an Idempotency-Key derived
from a local row (``kind:id:step``, ``gateway.idempotency_key``), and nowhere in its parameters
a service name, a clinician's name or a note. The fake Stripe logs every request; the
``fake_stripe`` fixture hands each test's log here at teardown (``collect``), and at the end of
the session ``pytest_sessionfinish`` (tests/conftest.py) fails the run with a report of every
request that broke the rule.

What must not leak is learnt from the rows the tests create (``watch``: post_save receivers
on services, appointments and clinicians' memberships), at the moment they are saved: by a
fixture's teardown a test's transaction may already be rolled back, and a list of the
factories' values would miss the names a test spells out itself.

The requests the tests make themselves with the harness's own key (``fake_stripe.client()``,
probing the fake's behaviour) are not the app's and are left out.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

# stripe-python's own key for a POST sent without one (a uuid4): not derived from a row.
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
# gateway.idempotency_key's shape: the row's kind, its id, the step ("checkout:12:session").
ROW_KEY = re.compile(r"^[a-z][a-z0-9_.-]*:[A-Za-z0-9_-]+:[a-z][a-z0-9_.-]*$")
# Shorter values (a service called "OT") would match ids and words by chance.
MIN_LENGTH = 4
# A long note is also looked for by its start: a leak may be cut to a field's limit.
NOTE_PREFIX = 30

# The key the tests' own stripe-python client uses (tests/payments/conftest.py): its requests
# probe the fake and are not the app's.
HARNESS_KEY = "sk_test_practica_fake"

SERVICE = "service name"
CLINICIAN = "clinician name"
NOTE = "note"


@dataclass
class Logged:
    test: str
    entry: dict[str, Any]


@dataclass
class RequestStore:
    """Everything the session collected: requests per test, and the values never to send."""

    requests: list[Logged] = field(default_factory=list)
    sensitive: dict[str, set[str]] = field(default_factory=dict)
    # Staff names by user id, and which users are clinicians: a membership or an appointment
    # names its user by id, and reading the user there would add a query to tests that count.
    users: dict[int, str] = field(default_factory=dict)
    clinicians: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def collect(self, entries: Iterable[dict[str, Any]], test: str) -> None:
        with self.lock:
            self.requests.extend(Logged(test, dict(e)) for e in entries)

    def note(self, kind: str, value: str | None) -> None:
        value = " ".join((value or "").split())
        if len(value) < MIN_LENGTH:
            return
        with self.lock:
            values = self.sensitive.setdefault(kind, set())
            values.add(value)
            if kind == NOTE and len(value) > NOTE_PREFIX:
                values.add(value[:NOTE_PREFIX])

    def values(self) -> dict[str, set[str]]:
        """What must never be sent, by kind (clinicians' names as they were last saved)."""
        with self.lock:
            found = {kind: set(values) for kind, values in self.sensitive.items()}
            names = {self.users[pk] for pk in self.clinicians if pk in self.users}
        found.setdefault(CLINICIAN, set()).update(n for n in names if len(n) >= MIN_LENGTH)
        return found


STORE = RequestStore()


def _strings(value: Any) -> Iterator[str]:
    """Every key and string leaf of a request's parameters."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
    elif value is not None:
        yield str(value)


def violations(requests: Iterable[Logged], sensitive: dict[str, set[str]], *, harness_keys: Iterable[str]) -> list[str]:
    """One line per broken rule: the test, the request, and what is wrong with it."""
    harness = set(harness_keys)
    needles = [(kind, value, value.casefold()) for kind, values in sensitive.items() for value in sorted(values)]
    found: list[str] = []
    for logged in requests:
        entry = logged.entry
        if entry.get("api_key") in harness:
            continue
        where = f"{logged.test}: {entry.get('method')} {entry.get('path')}"
        if entry.get("method") == "POST":
            key = entry.get("idempotency_key")
            if not key:
                found.append(f"{where} has no Idempotency-Key")
            elif _UUID.match(key) or not ROW_KEY.match(key):
                found.append(f"{where} has Idempotency-Key {key!r}, not one derived from a local row (kind:id:step)")
        texts = [text.casefold() for text in _strings(entry.get("params"))]
        for kind, value, folded in needles:
            if any(folded in text for text in texts):
                found.append(f"{where} sends a {kind}: {value!r}")
    return found


def report(store: RequestStore, *, harness_keys: Iterable[str]) -> tuple[int, list[str]]:
    """(how many of the app's requests were scanned, the violations)."""
    harness = set(harness_keys)
    with store.lock:
        requests = list(store.requests)
    sensitive = store.values()
    scanned = sum(1 for logged in requests if logged.entry.get("api_key") not in harness)
    return scanned, violations(requests, sensitive, harness_keys=harness)


def watch(store: RequestStore = STORE) -> None:
    """Learn the names and notes the tests create, as they are saved (without a query)."""
    from django.db.models.signals import post_save

    from appointments.models import Appointment, Service
    from practice.models import Membership, Role, User

    def service_saved(sender: Any, instance: Service, **kwargs: Any) -> None:
        store.note(SERVICE, instance.name)

    def appointment_saved(sender: Any, instance: Appointment, **kwargs: Any) -> None:
        store.note(NOTE, instance.note)
        with store.lock:
            store.clinicians.add(instance.clinician_id)

    def membership_saved(sender: Any, instance: Membership, **kwargs: Any) -> None:
        if instance.role == Role.CLINICIAN:
            with store.lock:
                store.clinicians.add(instance.user_id)

    def user_saved(sender: Any, instance: User, **kwargs: Any) -> None:
        with store.lock:
            # The name only (get_full_name falls back to the e-mail, which Stripe may get).
            store.users[instance.pk] = " ".join(f"{instance.first_name} {instance.last_name}".split())

    # weak=False: the receivers are local functions that must live for the whole session.
    post_save.connect(service_saved, sender=Service, weak=False, dispatch_uid="stripe_requests.service")
    post_save.connect(appointment_saved, sender=Appointment, weak=False, dispatch_uid="stripe_requests.appointment")
    post_save.connect(membership_saved, sender=Membership, weak=False, dispatch_uid="stripe_requests.membership")
    post_save.connect(user_saved, sender=User, weak=False, dispatch_uid="stripe_requests.user")
