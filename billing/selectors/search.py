"""The header's search: clients by name, email or phone and invoices by number, as far
as the viewer may see them (a clinician: their own clients and those clients' invoices).

It lives in billing because billing sits above clients and can read both; clients cannot
import billing. Two queries whatever the practice holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Q

from clients.models import Client
from clients.selectors import client_search
from practice.models import Membership, Practice

from ..models import Invoice
from .home import _derived_status
from .invoices import invoices_visible

SEARCH_LIMIT = 8
# Longer input is no name, email or invoice number; it is cut, not refused.
SEARCH_MAX_LENGTH = 100


@dataclass(frozen=True)
class SearchResults:
    q: str
    clients: Sequence[Client]
    invoices: Sequence[Invoice]

    @property
    def empty(self) -> bool:
        return not self.clients and not self.invoices


def global_search(practice: Practice, membership: Membership, q: str, *, limit: int = SEARCH_LIMIT) -> SearchResults:
    """Up to ``limit`` clients and ``limit`` invoices matching ``q``. A client matches when
    every word is in a name, the email or the phone; an invoice when every word is in its
    number (credit invoices too). Nothing for an empty search."""
    q = q[:SEARCH_MAX_LENGTH].strip()
    terms = q.split()[:5]
    if not terms:
        return SearchResults(q=q, clients=[], invoices=[])
    clients = client_search(practice, membership, q, limit=limit)
    invoices = invoices_visible(practice, membership).exclude(number__isnull=True)
    for term in terms:
        invoices = invoices.filter(Q(number__icontains=term))
    invoices = invoices.select_related("client").annotate(derived_status=_derived_status(practice.local_today()))
    found = list(invoices.order_by("-sequence", "-pk")[:limit])
    return SearchResults(q=q, clients=clients, invoices=found)
