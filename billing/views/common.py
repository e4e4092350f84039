"""What every billing view uses: the request's practice and membership, an invoice or a
client fetched by id through the selectors (a foreign id is the same 404 as a missing
one), money in the practice's words, and a service's refusal read apart."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse

from clients import selectors as client_selectors
from clients.models import Client
from practice.access import BILLING_ROLES
from practice.models import Membership, Practice
from practice.money import practice_money
from practice.types import PracticeRequest

from .. import selectors
from ..models import Invoice


def _practice(request: PracticeRequest) -> Practice:
    return request.practice


def _membership(request: PracticeRequest) -> Membership:
    return request.membership


def _can_bill(request: PracticeRequest) -> bool:
    return _membership(request).role in BILLING_ROLES


def _money(request: PracticeRequest, amount: Decimal) -> str:
    practice = _practice(request)
    return practice_money(practice, amount)


def _purl(request: PracticeRequest, name: str, **kwargs: Any) -> str:
    return reverse(name, kwargs={"practice_slug": _practice(request).slug, **kwargs})


def _invoice(request: PracticeRequest, invoice_id: int) -> Invoice:
    return selectors.invoice_get_for_practice(_practice(request), _membership(request), invoice_id)


def _client(request: PracticeRequest, client_id: int | str) -> Client:
    try:
        pk = int(client_id)
    except (TypeError, ValueError):
        raise Http404("No such client.") from None
    return client_selectors.client_get_for_practice(_practice(request), _membership(request), pk)


def _messages_of(exc: ValidationError) -> list[str]:
    return list(exc.messages)


def _code(exc: ValidationError) -> str | None:
    return getattr(exc, "code", None)


def header_money(practice: Practice, balance: Decimal, credit: Decimal, overdue: Decimal) -> dict[str, str]:
    """The client record header's Balance, Credit balance and Overdue, formatted (Overdue
    empty when nothing is past due, so the header shows no flag)."""
    return {
        "balance": practice_money(practice, balance),
        "credit": practice_money(practice, credit),
        "overdue": practice_money(practice, overdue) if overdue > 0 else "",
    }
