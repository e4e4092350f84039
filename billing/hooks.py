"""What apps above billing add to billing's pages (registered from their ready()).

Billing never imports them: the payment link page asks the registered providers whether
the invoice can be paid online, and renders what they answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .models import Invoice


@dataclass(frozen=True)
class PayOnline:
    """The payment link page's Pay online: a form POSTing to ``action_url`` (with the
    balance shown, so a changed invoice is noticed), or, when it cannot be used, why.
    ``form_origins`` are where the form's POST is redirected (the hosted payment page):
    the page's Content-Security-Policy form-action must allow them, as browsers check it
    against every hop."""

    action_url: str | None
    message: str = ""
    form_origins: tuple[str, ...] = ()


# (invoice, payment link token) -> PayOnline, or None when online payment is not offered.
PayOnlineProvider = Callable[[Invoice, str], PayOnline | None]

_pay_online: list[PayOnlineProvider] = []


def register_pay_online(provider: PayOnlineProvider) -> None:
    if provider not in _pay_online:
        _pay_online.append(provider)


def pay_online_for(invoice: Invoice, token: str) -> PayOnline | None:
    for provider in _pay_online:
        if (offer := provider(invoice, token)) is not None:
            return offer
    return None
