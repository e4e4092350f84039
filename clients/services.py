"""Writes for clients and payers. Each is one transaction with its audit row.

The checks here repeat what the forms check, on purpose: a service is also called from
the demo loader, tests and later from imports, and must never link a client to another
practice's clinician or payer whatever its caller did.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from practice.actor import Actor
from practice.audit import audit_write, diff_fields, snapshot
from practice.models import Membership, Practice, Role, User

from .models import Client, Payer
from .selectors import clinicians_for_practice

CLINICIAN_NOT_IN_PRACTICE = "Choose clinicians who work in this practice."
PAYER_NOT_IN_PRACTICE = "Choose a payer of this practice."
DATE_OF_BIRTH_IN_FUTURE = "The date of birth cannot be in the future."
CLIENT_ALREADY_ARCHIVED = "This client is already archived."
CLIENT_NOT_ARCHIVED = "This client is not archived."
NAME_REQUIRED = "Enter a first and a last name."
RELATIONSHIP_UNKNOWN = "Choose how the payer is related to the client."
DIAGNOSIS_CODE_BAD = (
    "{code} is not an ICD-10 code: a letter, two digits, then optionally a dot and up to four"
    " more letters or digits (for example F41.1)."
)
DIAGNOSIS_CODES_TOO_MANY = "Enter at most 12 diagnosis codes."
# Loose on purpose: the shape of an ICD-10(-CM) code, not a lookup in the code set.
ICD10_CODE = re.compile(r"[A-Z][0-9]{2}(\.?[A-Z0-9]{1,4})?")

CLIENT_FIELDS = (
    "first_name",
    "last_name",
    "preferred_name",
    "email",
    "phone",
    "date_of_birth",
    "address",
    "diagnosis_codes",
)
PAYER_FIELDS = ("first_name", "last_name", "email", "phone", "relationship", "address")


def _clean_text(value: str | None) -> str:
    return (value or "").strip()


def diagnosis_codes_parse(value: str | None) -> str:
    """The ICD-10 codes in ``value`` (separated by commas, semicolons or spaces), upper case,
    each once, joined as "F41.1, F32.0"; a code of the wrong shape raises with its name."""
    codes: list[str] = []
    for part in re.split(r"[\s,;]+", (value or "").upper()):
        if not part:
            continue
        if not ICD10_CODE.fullmatch(part):
            raise ValidationError({"diagnosis_codes": DIAGNOSIS_CODE_BAD.format(code=part[:20])})
        if part not in codes:
            codes.append(part)
    if len(codes) > 12:
        raise ValidationError({"diagnosis_codes": DIAGNOSIS_CODES_TOO_MANY})
    return ", ".join(codes)


def _check_person(
    *, practice: Practice, first_name: str, last_name: str, email: str, date_of_birth: date | None
) -> None:
    errors: dict[str, list[str]] = {}
    if not first_name:
        errors.setdefault("first_name", []).append(NAME_REQUIRED)
    if not last_name:
        errors.setdefault("last_name", []).append(NAME_REQUIRED)
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            errors.setdefault("email", []).extend(exc.messages)
    if date_of_birth is not None and date_of_birth > practice.local_today():
        errors.setdefault("date_of_birth", []).append(DATE_OF_BIRTH_IN_FUTURE)
    if errors:
        raise ValidationError(errors)


def _check_links(*, practice: Practice, clinicians: Iterable[User], payer: Payer | None) -> list[User]:
    chosen = list(clinicians)
    allowed = set(clinicians_for_practice(practice).filter(pk__in=[u.pk for u in chosen]).values_list("pk", flat=True))
    errors: dict[str, list[str]] = {}
    if any(u.pk not in allowed for u in chosen):
        errors["clinicians"] = [CLINICIAN_NOT_IN_PRACTICE]
    if payer is not None and payer.practice_id != practice.pk:
        errors["payer"] = [PAYER_NOT_IN_PRACTICE]
    if errors:
        raise ValidationError(errors)
    return chosen


def _keep_acting_clinician(*, practice: Practice, actor: Actor | User, clinicians: list[User]) -> list[User]:
    # A clinician sees only their own clients: a client they create or edit stays assigned
    # to them, or it would vanish from their list the moment they saved it.
    user = Actor.coerce(actor).user
    if user is None:
        return clinicians
    is_clinician = Membership.objects.filter(practice=practice, user=user, role=Role.CLINICIAN, is_active=True).exists()
    if is_clinician and all(u.pk != user.pk for u in clinicians):
        return [*clinicians, user]
    return clinicians


def _client_snapshot(client: Client) -> dict[str, Any]:
    data = snapshot(client, (*CLIENT_FIELDS, "status", "reminders_excluded"))
    data["payer"] = str(client.payer) if client.payer_id else None
    data["clinicians"] = ", ".join(sorted(u.email for u in client.clinicians.all()))
    return data


def client_create(
    *,
    practice: Practice,
    actor: Actor | User,
    first_name: str,
    last_name: str,
    preferred_name: str = "",
    email: str = "",
    phone: str = "",
    date_of_birth: date | None = None,
    address: str = "",
    diagnosis_codes: str = "",
    clinicians: Iterable[User] = (),
    payer: Payer | None = None,
) -> Client:
    first_name, last_name, email = _clean_text(first_name), _clean_text(last_name), _clean_text(email).lower()
    diagnosis_codes = diagnosis_codes_parse(diagnosis_codes)
    _check_person(
        practice=practice, first_name=first_name, last_name=last_name, email=email, date_of_birth=date_of_birth
    )
    chosen = _check_links(practice=practice, clinicians=clinicians, payer=payer)
    chosen = _keep_acting_clinician(practice=practice, actor=actor, clinicians=chosen)
    with transaction.atomic():
        client = Client.objects.create(
            practice=practice,
            first_name=first_name,
            last_name=last_name,
            preferred_name=_clean_text(preferred_name),
            email=email,
            phone=_clean_text(phone),
            date_of_birth=date_of_birth,
            address=_clean_text(address),
            diagnosis_codes=diagnosis_codes,
            payer=payer,
        )
        client.clinicians.set(chosen)
        audit_write(
            practice=practice,
            actor=actor,
            action="client.created",
            obj=client,
            changes={"clinicians": ", ".join(sorted(u.email for u in chosen)), "payer": str(payer) if payer else None},
        )
    return client


def client_update(
    *,
    client: Client,
    actor: Actor | User,
    first_name: str,
    last_name: str,
    preferred_name: str = "",
    email: str = "",
    phone: str = "",
    date_of_birth: date | None = None,
    address: str = "",
    diagnosis_codes: str = "",
    clinicians: Iterable[User] = (),
    payer: Payer | None = None,
    reminders_excluded: bool | None = None,
) -> Client:
    """Replace the client's details, clinicians and payer (and, when given, whether they
    are excluded from invoice reminders); audit what changed."""
    practice = client.practice
    first_name, last_name, email = _clean_text(first_name), _clean_text(last_name), _clean_text(email).lower()
    diagnosis_codes = diagnosis_codes_parse(diagnosis_codes)
    _check_person(
        practice=practice, first_name=first_name, last_name=last_name, email=email, date_of_birth=date_of_birth
    )
    chosen = _check_links(practice=practice, clinicians=clinicians, payer=payer)
    chosen = _keep_acting_clinician(practice=practice, actor=actor, clinicians=chosen)
    with transaction.atomic():
        locked = Client.objects.select_for_update(of=("self",)).select_related("payer").get(pk=client.pk)
        before = _client_snapshot(locked)
        locked.first_name = first_name
        locked.last_name = last_name
        locked.preferred_name = _clean_text(preferred_name)
        locked.email = email
        locked.phone = _clean_text(phone)
        locked.date_of_birth = date_of_birth
        locked.address = _clean_text(address)
        locked.diagnosis_codes = diagnosis_codes
        locked.payer = payer
        if reminders_excluded is not None:
            locked.reminders_excluded = reminders_excluded
        locked.save(update_fields=[*CLIENT_FIELDS, "payer", "reminders_excluded"])
        locked.clinicians.set(chosen)
        changes = diff_fields(before, _client_snapshot(locked))
        if changes:
            audit_write(practice=practice, actor=actor, action="client.updated", obj=locked, changes=changes)
    return locked


def _set_status(*, client: Client, actor: Actor | User, status: str) -> Client:
    with transaction.atomic():
        locked = Client.objects.select_for_update().get(pk=client.pk)
        if status == Client.Status.ARCHIVED and locked.status == Client.Status.ARCHIVED:
            raise ValidationError(CLIENT_ALREADY_ARCHIVED)
        if status == Client.Status.ACTIVE and locked.status != Client.Status.ARCHIVED:
            raise ValidationError(CLIENT_NOT_ARCHIVED)
        before = locked.status
        locked.status = status
        locked.save(update_fields=["status"])
        action = "client.archived" if status == Client.Status.ARCHIVED else "client.unarchived"
        audit_write(
            practice=locked.practice,
            actor=actor,
            action=action,
            obj=locked,
            changes={"status": [before, status]},
        )
    return locked


def client_archive(*, client: Client, actor: Actor | User) -> Client:
    """Archive a client: hidden from the default list, history and billing kept."""
    return _set_status(client=client, actor=actor, status=Client.Status.ARCHIVED)


def client_unarchive(*, client: Client, actor: Actor | User) -> Client:
    return _set_status(client=client, actor=actor, status=Client.Status.ACTIVE)


def client_record_viewed(*, client: Client, actor: Actor | User, section: str) -> None:
    """Every read of a client record is audited (DESIGN.md, Security)."""
    audit_write(
        practice=client.practice,
        actor=actor,
        action="client.viewed",
        obj=client,
        changes={"section": section},
    )


def _check_payer(*, practice: Practice, first_name: str, last_name: str, email: str, relationship: str) -> None:
    errors: dict[str, list[str]] = {}
    if relationship not in Payer.Relationship.values:
        errors["relationship"] = [RELATIONSHIP_UNKNOWN]
    if not first_name:
        errors.setdefault("first_name", []).append(NAME_REQUIRED)
    if not last_name:
        errors.setdefault("last_name", []).append(NAME_REQUIRED)
    try:
        validate_email(email)
    except ValidationError as exc:
        errors.setdefault("email", []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)


def payer_create(
    *,
    practice: Practice,
    actor: Actor | User,
    first_name: str,
    last_name: str,
    email: str,
    phone: str = "",
    relationship: str = Payer.Relationship.PARENT,
    address: str = "",
    clients: Iterable[Client] = (),
) -> Payer:
    """Create a payer and make them the payer of ``clients`` (all of this practice)."""
    first_name, last_name, email = _clean_text(first_name), _clean_text(last_name), _clean_text(email).lower()
    _check_payer(practice=practice, first_name=first_name, last_name=last_name, email=email, relationship=relationship)
    linked = list(clients)
    if any(c.practice_id != practice.pk for c in linked):
        # Views reach clients only through the practice's selectors; this is a bug guard.
        raise ValueError("A payer can only pay for clients of its own practice.")
    with transaction.atomic():
        payer = Payer.objects.create(
            practice=practice,
            first_name=first_name,
            last_name=last_name,
            email=email,
            phone=_clean_text(phone),
            relationship=relationship,
            address=_clean_text(address),
        )
        audit_write(
            practice=practice,
            actor=actor,
            action="payer.created",
            obj=payer,
            changes={"email": email},
        )
        for client in Client.objects.select_for_update().filter(pk__in=[c.pk for c in linked]).order_by("pk"):
            before = str(client.payer) if client.payer_id else None
            client.payer = payer
            client.save(update_fields=["payer"])
            audit_write(
                practice=practice,
                actor=actor,
                action="client.updated",
                obj=client,
                changes={"payer": [before, str(payer)]},
            )
    return payer


def payer_update(
    *,
    payer: Payer,
    actor: Actor | User,
    first_name: str,
    last_name: str,
    email: str,
    phone: str = "",
    relationship: str = Payer.Relationship.PARENT,
    address: str = "",
) -> Payer:
    """Change a payer's details; every client they pay for sees the change."""
    first_name, last_name, email = _clean_text(first_name), _clean_text(last_name), _clean_text(email).lower()
    _check_payer(
        practice=payer.practice,
        first_name=first_name,
        last_name=last_name,
        email=email,
        relationship=relationship,
    )
    with transaction.atomic():
        locked = Payer.objects.select_for_update().get(pk=payer.pk)
        before = snapshot(locked, PAYER_FIELDS)
        locked.first_name = first_name
        locked.last_name = last_name
        locked.email = email
        locked.phone = _clean_text(phone)
        locked.relationship = relationship
        locked.address = _clean_text(address)
        locked.save(update_fields=list(PAYER_FIELDS))
        changes = diff_fields(before, snapshot(locked, PAYER_FIELDS))
        if changes:
            audit_write(practice=locked.practice, actor=actor, action="payer.updated", obj=locked, changes=changes)
    return locked


def client_set_payer(*, client: Client, actor: Actor | User, payer: Payer | None) -> Client:
    """Make ``payer`` (or nobody) the payer of ``client``: how a household is put together."""
    if payer is not None and payer.practice_id != client.practice_id:
        raise ValidationError({"payer": PAYER_NOT_IN_PRACTICE})
    with transaction.atomic():
        locked = Client.objects.select_for_update(of=("self",)).select_related("payer").get(pk=client.pk)
        before = str(locked.payer) if locked.payer_id else None
        if locked.payer_id == (payer.pk if payer else None):
            return locked
        locked.payer = payer
        locked.save(update_fields=["payer"])
        audit_write(
            practice=locked.practice,
            actor=actor,
            action="client.updated",
            obj=locked,
            changes={"payer": [before, str(payer) if payer else None]},
        )
    return locked
