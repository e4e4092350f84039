"""What payments asks of the staff invoice page, in one statement: the practice's Stripe
account, whether card charges were made for the invoice, and whether a card payment of
it is held for review. Pay now, Take payment and the held notice each read it (once per
invoice object: the panels and the notice are asked for the same invoice in turn), and
read rows of their own only when they have something to show.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db import connection

from billing.models import Invoice

from .models import CardChargeAllocation, CardChargeAttempt, CheckoutAttempt, StripeAccount


@dataclass(frozen=True)
class InvoicePageShown:
    # The practice's account (a practice has at most one), None before Stripe is connected.
    account: StripeAccount | None
    has_card_charges: bool
    held: bool

    @property
    def takes_charges(self) -> bool:
        """What ``checkout.charges_account`` says: a connected account that takes charges."""
        account = self.account
        return account is not None and account.disconnected_at is None and account.charges_enabled


_SHOWN_SQL = """
SELECT
    a.id, a.stripe_account_id, a.charges_enabled, a.payouts_enabled, a.details_submitted,
    a.requirements::text, a.disconnected_at,
    EXISTS (SELECT 1 FROM {attempt} t JOIN {allocation} al ON al.attempt_id = t.id
            WHERE t.practice_id = %(p)s AND al.invoice_id = %(i)s),
    EXISTS (SELECT 1 FROM {checkout} c
            WHERE c.practice_id = %(p)s AND c.invoice_id = %(i)s AND c.status = %(held)s)
FROM (SELECT 1) AS one
LEFT JOIN {account} a ON a.practice_id = %(p)s
"""

_MEMO = "_payments_page_shown"


def _read(invoice: Invoice) -> InvoicePageShown:
    sql = _SHOWN_SQL.format(
        attempt=CardChargeAttempt._meta.db_table,
        allocation=CardChargeAllocation._meta.db_table,
        checkout=CheckoutAttempt._meta.db_table,
        account=StripeAccount._meta.db_table,
    )
    params: dict[str, int | str] = {
        "p": invoice.practice_id,
        "i": invoice.pk,
        "held": CheckoutAttempt.Status.HELD.value,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    pk, stripe_id, charges, payouts, submitted, requirements, disconnected_at, charged, held = row
    account = None
    if pk is not None:
        account = StripeAccount(
            pk=pk,
            practice_id=invoice.practice_id,
            stripe_account_id=stripe_id,
            charges_enabled=charges,
            payouts_enabled=payouts,
            details_submitted=submitted,
            requirements=json.loads(requirements) if requirements else {},
            disconnected_at=disconnected_at,
        )
    return InvoicePageShown(account=account, has_card_charges=charged, held=held)


def invoice_page_shown(invoice: Invoice) -> InvoicePageShown:
    """The invoice page's payments facts, read on the first ask for this invoice object."""
    shown = invoice.__dict__.get(_MEMO)
    if shown is None:
        shown = invoice.__dict__[_MEMO] = _read(invoice)
    return shown
