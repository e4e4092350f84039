"""What apps above billing add to billing's pages (registered from their ready()).

Billing never imports them: the payment link page asks the registered providers whether
the invoice can be paid online, and renders what they answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from clients.models import Client
from practice.models import Practice

from .models import Invoice, Payment


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
    # Where the practice allows part-payments: the payer types an amount (starting at
    # ``amount_initial``, as an input shows it) between the least and the balance, which
    # ``amount_help`` states.
    choose_amount: bool = False
    amount_initial: str = ""
    amount_help: str = ""


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


@dataclass(frozen=True)
class Panel:
    """A piece of a billing page that an app above billing renders: ``template`` is
    included with ``context`` (plus the page's own context) where billing places it."""

    template: str
    context: dict[str, object]
    # Where the panel's forms lead after the app's redirect (a hosted payment page): the
    # page's Content-Security-Policy form-action must allow them.
    form_origins: tuple[str, ...] = ()


# (request, invoice) -> a panel for the invoice page's Actions card (Take payment, Pay now),
# or None when the app has nothing to offer for this invoice or this user.
InvoicePanelProvider = Callable[[object, Invoice], Panel | None]
# (request, payment) -> a panel for the payment page (the processor's ids, fee, refunds).
PaymentPanelProvider = Callable[[object, Payment], Panel | None]
# (request, client) -> a panel for the client's Billing tab (payments: saved cards).
ClientBillingPanelProvider = Callable[[object, Client], Panel | None]

# (request, invoice) -> a notice at the top of the invoice page for staff who can bill
# (an online payment held for review), shown whatever the invoice's status.
InvoiceNoticeProvider = Callable[[object, Invoice], Panel | None]
# (request) -> a notice on the Billing page (what needs a biller's attention).
BillingNoticeProvider = Callable[[object], Panel | None]

_invoice_panels: list[InvoicePanelProvider] = []
_payment_panels: list[PaymentPanelProvider] = []
_client_billing_panels: list[ClientBillingPanelProvider] = []
_invoice_notices: list[InvoiceNoticeProvider] = []
_billing_notices: list[BillingNoticeProvider] = []


def register_invoice_panel(provider: InvoicePanelProvider) -> None:
    if provider not in _invoice_panels:
        _invoice_panels.append(provider)


def register_payment_panel(provider: PaymentPanelProvider) -> None:
    if provider not in _payment_panels:
        _payment_panels.append(provider)


def register_client_billing_panel(provider: ClientBillingPanelProvider) -> None:
    if provider not in _client_billing_panels:
        _client_billing_panels.append(provider)


def invoice_panels_for(request: object, invoice: Invoice) -> list[Panel]:
    return [panel for provider in _invoice_panels if (panel := provider(request, invoice)) is not None]


def payment_panels_for(request: object, payment: Payment) -> list[Panel]:
    return [panel for provider in _payment_panels if (panel := provider(request, payment)) is not None]


@dataclass(frozen=True)
class PaymentDetails:
    """What the processor says of one online payment, for billing's payment lists: its ids,
    its status in the processor's words, the fee it took (None until it says) and where its
    dashboard shows it. ``fee_display`` and ``net_display`` are the amounts as the page
    shows them (in the processor's settlement currency, which may not be the practice's)."""

    processor: str
    payment_ref: str
    charge_ref: str
    status: str
    fee: Decimal | None
    net: Decimal | None
    currency: str
    fee_display: str
    net_display: str
    dashboard_url: str


# (practice, the page's payments) -> {payment id: details} for those it knows. Called once
# per page with all its rows, so a list's queries do not grow with its length.
PaymentDetailsProvider = Callable[[Practice, Sequence[Payment]], Mapping[int, PaymentDetails]]

_payment_details: list[PaymentDetailsProvider] = []


def register_payment_details(provider: PaymentDetailsProvider) -> None:
    if provider not in _payment_details:
        _payment_details.append(provider)


def payment_details_for(practice: Practice, payments: Sequence[Payment]) -> dict[int, PaymentDetails]:
    """Every registered provider's details of these payments (none asked for an empty page)."""
    found: dict[int, PaymentDetails] = {}
    if not payments:
        return found
    for provider in _payment_details:
        for payment_id, details in provider(practice, payments).items():
            found.setdefault(payment_id, details)
    return found


def payment_rows(practice: Practice, payments: Sequence[Payment]) -> list[tuple[Payment, PaymentDetails | None]]:
    """The payments with their details, in order, for a template's ``{% for p, d in rows %}``."""
    details = payment_details_for(practice, payments)
    return [(payment, details.get(payment.pk)) for payment in payments]


def client_billing_panels_for(request: object, client: Client) -> list[Panel]:
    return [panel for provider in _client_billing_panels if (panel := provider(request, client)) is not None]


def register_invoice_notice(provider: InvoiceNoticeProvider) -> None:
    if provider not in _invoice_notices:
        _invoice_notices.append(provider)


def register_billing_notice(provider: BillingNoticeProvider) -> None:
    if provider not in _billing_notices:
        _billing_notices.append(provider)


def invoice_notices_for(request: object, invoice: Invoice) -> list[Panel]:
    return [panel for provider in _invoice_notices if (panel := provider(request, invoice)) is not None]


def billing_notices_for(request: object) -> list[Panel]:
    return [panel for provider in _billing_notices if (panel := provider(request)) is not None]


def form_origins_of(panels: list[Panel]) -> list[str]:
    """The origins the panels' forms lead to, once each, for the page's form-action."""
    return list(dict.fromkeys(origin for panel in panels for origin in panel.form_origins))


# --- The client portal's billing pages (billing.portal_views) ------------------------------

# (portal request, invoice) -> a panel in the invoice's expanded details beside View and
# Download PDF: Make payment, Pay with a saved card. Called for one invoice at a time.
PortalInvoicePanelProvider = Callable[[object, Invoice], Panel | None]
# (portal request, the open invoices shown, oldest first) -> a panel at the top of Billing
# (Pay full balance, an AutoPay notice).
PortalBillingPanelProvider = Callable[[object, Sequence[Invoice]], Panel | None]
# () -> the origins a portal page's forms may be redirected to (a hosted payment page):
# the page's Content-Security-Policy form-action must allow them, as browsers check every
# hop, and an invoice's details arrive by htmx into a page that was served before.
PortalFormOriginsProvider = Callable[[], tuple[str, ...]]

_portal_invoice_panels: list[PortalInvoicePanelProvider] = []
_portal_billing_panels: list[PortalBillingPanelProvider] = []
_portal_form_origins: list[PortalFormOriginsProvider] = []


def register_portal_invoice_panel(provider: PortalInvoicePanelProvider) -> None:
    if provider not in _portal_invoice_panels:
        _portal_invoice_panels.append(provider)


def register_portal_billing_panel(provider: PortalBillingPanelProvider) -> None:
    if provider not in _portal_billing_panels:
        _portal_billing_panels.append(provider)


def register_portal_form_origins(provider: PortalFormOriginsProvider) -> None:
    if provider not in _portal_form_origins:
        _portal_form_origins.append(provider)


def portal_invoice_panels_for(request: object, invoice: Invoice) -> list[Panel]:
    return [panel for provider in _portal_invoice_panels if (panel := provider(request, invoice)) is not None]


def portal_billing_panels_for(request: object, open_invoices: Sequence[Invoice]) -> list[Panel]:
    return [panel for provider in _portal_billing_panels if (panel := provider(request, open_invoices)) is not None]


def portal_form_origins() -> tuple[str, ...]:
    found: list[str] = []
    for provider in _portal_form_origins:
        found.extend(origin for origin in provider() if origin not in found)
    return tuple(found)
