"""Payment links: a signed, expiring URL that opens one invoice without signing in.

The token is the invoice's and practice's ids signed with the SECRET_KEY under this
module's salt (django.core.signing, with a timestamp). Nothing is stored: a link cannot be
listed or revoked one by one, but it opens only that invoice, only until it expires
(``PAYMENT_LINK_MAX_AGE_DAYS``), and a void invoice's link says it is no longer payable.
Changing the salt's version (or the SECRET_KEY) retires every link at once.

Until online payments exist the page shows the invoice and how to pay it; the payments
issue makes it pay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

from .models import Invoice

SALT = "billing.payment-link.v1"


class LinkExpired(Exception):
    """The signature is good but older than the links' lifetime."""


class LinkInvalid(Exception):
    """Not a link we signed (tampered, truncated, made up), or its invoice is gone."""


@dataclass(frozen=True)
class LinkTarget:
    practice_id: int
    invoice_id: int


def max_age() -> timedelta:
    return timedelta(days=settings.PAYMENT_LINK_MAX_AGE_DAYS)


def payment_link_token(invoice: Invoice) -> str:
    return signing.dumps({"p": invoice.practice_id, "i": invoice.pk}, salt=SALT, compress=True)


def payment_link_path(invoice: Invoice) -> str:
    return reverse("pay:invoice", kwargs={"token": payment_link_token(invoice)})


def payment_link_url(invoice: Invoice) -> str:
    """The absolute link for an email or a chat message (SITE_URL is who we are to clients)."""
    return settings.SITE_URL.rstrip("/") + payment_link_path(invoice)


def payment_link_read(token: str) -> LinkTarget:
    """The invoice a token names; raises LinkExpired or LinkInvalid."""
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age())
    except signing.SignatureExpired as exc:
        raise LinkExpired from exc
    except signing.BadSignature as exc:
        raise LinkInvalid from exc
    if not isinstance(data, dict):
        raise LinkInvalid
    practice_id, invoice_id = data.get("p"), data.get("i")
    if not isinstance(practice_id, int) or not isinstance(invoice_id, int):
        raise LinkInvalid
    return LinkTarget(practice_id=practice_id, invoice_id=invoice_id)
