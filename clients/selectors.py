"""Reads of clients and payers. Each takes the practice first and, where visibility
depends on who is asking, the viewer's membership.

Visibility rule (DESIGN.md, Security): a clinician sees only the clients assigned to
them; owners, admins and billers see every client of the practice. A client the viewer
may not see is a 404, the same as one that does not exist or belongs to another practice.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from practice.models import Membership, Practice, Role, User

from .models import Client, Payer, PortalAccess

STATUS_ALL = "all"


def _assigned_to(user_id: int) -> Exists:
    through = Client.clinicians.through
    return Exists(through.objects.filter(client_id=OuterRef("pk"), user_id=user_id))


def clients_visible(practice: Practice, membership: Membership) -> QuerySet[Client]:
    """Every client of ``practice`` that ``membership`` may see."""
    clients = Client.objects.filter(practice=practice)
    if not membership.sees_all_clients:
        clients = clients.filter(_assigned_to(membership.user_id))
    return clients


def client_list(
    practice: Practice,
    membership: Membership,
    *,
    q: str = "",
    status: str = Client.Status.ACTIVE,
    clinician_id: int | None = None,
) -> QuerySet[Client]:
    """The clients list: search, filters and visibility, with what each row shows loaded
    in a fixed number of queries (payer joined, clinicians prefetched)."""
    clients = clients_visible(practice, membership)
    # Every word must match somewhere, so "ana smith" finds Ana Smith.
    for term in q.split():
        clients = clients.filter(
            Q(first_name__icontains=term)
            | Q(last_name__icontains=term)
            | Q(preferred_name__icontains=term)
            | Q(email__icontains=term)
            | Q(phone__icontains=term)
        )
    if status and status != STATUS_ALL:
        clients = clients.filter(status=status)
    if clinician_id is not None:
        clients = clients.filter(_assigned_to(clinician_id))
    return clients.select_related("payer").prefetch_related(
        Prefetch("clinicians", queryset=User.objects.order_by("first_name", "last_name", "pk"))
    )


def client_get_for_practice(practice: Practice, membership: Membership, client_id: int) -> Client:
    """One client the viewer may see, or Http404 (foreign, missing or not assigned alike)."""
    client = (
        clients_visible(practice, membership)
        .select_related("payer")
        .prefetch_related(Prefetch("clinicians", queryset=User.objects.order_by("first_name", "last_name", "pk")))
        .filter(pk=client_id)
        .first()
    )
    if client is None:
        raise Http404("No such client.")
    # The practice in hand, not a joined copy of its row (every record page reads it).
    client.practice = practice
    return client


def clinicians_for_practice(practice: Practice) -> QuerySet[User]:
    """People who may be assigned to a client: the practice's active clinicians."""
    return User.objects.filter(
        memberships__practice=practice,
        memberships__role=Role.CLINICIAN,
        memberships__is_active=True,
    ).order_by("first_name", "last_name", "pk")


def payers_for_practice(practice: Practice, membership: Membership) -> QuerySet[Payer]:
    """The payers ``membership`` may see and choose: for a clinician, only those who pay
    for a client assigned to them (a payer's name and email are another client's details)."""
    payers = Payer.objects.filter(practice=practice)
    if not membership.sees_all_clients:
        through = Client.clinicians.through
        payers = payers.filter(
            Exists(through.objects.filter(client__payer_id=OuterRef("pk"), user_id=membership.user_id))
        )
    return payers.order_by("last_name", "first_name", "pk")


def payer_get_for_practice(practice: Practice, membership: Membership, payer_id: int | str) -> Payer:
    """A payer ``membership`` may see, or Http404 (another practice's payer, or one a
    clinician may not see, is no different from a missing one)."""
    if not str(payer_id).isdecimal():
        raise Http404("No such payer.")
    payer = payers_for_practice(practice, membership).filter(pk=int(payer_id)).first()
    if payer is None:
        raise Http404("No such payer.")
    return payer


def household(practice: Practice, membership: Membership, client: Client) -> QuerySet[Client]:
    """The other clients the same payer pays for, as far as the viewer may see them."""
    if client.payer_id is None:
        return Client.objects.none()
    return (
        clients_visible(practice, membership)
        .filter(payer_id=client.payer_id)
        .exclude(pk=client.pk)
        .order_by("last_name", "first_name", "pk")
    )


def payer_client_count(practice: Practice, payer: Payer) -> int:
    return Client.objects.filter(practice=practice, payer=payer).count()


def payer_editable_by(practice: Practice, membership: Membership, payer: Payer) -> bool:
    """Whether ``membership`` may change ``payer``'s details. A change reaches every client the
    payer pays for, so a clinician may edit only a payer who pays for their own clients alone;
    one who also pays for a colleague's client is the owner's, an admin's or a biller's to edit."""
    if membership.sees_all_clients:
        return True
    return not Client.objects.filter(practice=practice, payer=payer).exclude(clinicians=membership.user_id).exists()


CLIENT_SEARCH_LIMIT = 10


def client_search(
    practice: Practice, membership: Membership, q: str, *, limit: int = CLIENT_SEARCH_LIMIT
) -> list[Client]:
    """The type-ahead client picker: up to ``limit`` clients the viewer may see whose name,
    email or phone matches every word of ``q``, in name order (one query). Nothing for an
    empty search, so the picker never lists a whole practice."""
    terms = q.split()[:5]
    if not terms:
        return []
    clients = clients_visible(practice, membership)
    for term in terms:
        clients = clients.filter(
            Q(first_name__icontains=term)
            | Q(last_name__icontains=term)
            | Q(preferred_name__icontains=term)
            | Q(email__icontains=term)
            | Q(phone__icontains=term)
        )
    return list(clients.order_by("last_name", "first_name", "pk")[:limit])


def portal_access_for(client: Client) -> PortalAccess | None:
    """The client's portal access row (on or revoked), or None when never granted."""
    return PortalAccess.objects.filter(client=client).first()
