"""What payments adds to a client's Billing tab: their saved cards, then AutoPay.

One query says which of the two has anything to show (an account that takes charges,
cards on it, AutoPay charges, AutoPay on); the rows of a panel are read only when it is
shown. Most clients of a practice without Stripe show neither, and their tab then pays
one query here, not four.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from django.db import connection

from billing.hooks import Panel
from clients.models import AutoPayEnrolment, Client
from practice.access import BILLING_ROLES
from practice.types import PracticeRequest

from .autopay_views import client_autopay_panel
from .card_views import client_cards_panel
from .models import AutoPayCharge, SavedCard, StripeAccount, StripeCustomer


@dataclass(frozen=True)
class Shown:
    """What the client's panels have to show, read in one query."""

    takes_charges: bool
    has_cards: bool
    has_charges: bool
    enrolled: bool


_SHOWN_SQL = """
SELECT
    EXISTS (SELECT 1 FROM {account} a
            WHERE a.practice_id = %(p)s AND a.disconnected_at IS NULL AND a.charges_enabled),
    EXISTS (SELECT 1 FROM {card} s JOIN {customer} cu ON cu.id = s.customer_id
            WHERE s.practice_id = %(p)s AND s.client_id = %(c)s AND s.removed_at IS NULL
              AND cu.stripe_account_id = (SELECT a.stripe_account_id FROM {account} a
                                          WHERE a.practice_id = %(p)s AND a.disconnected_at IS NULL
                                          ORDER BY a.id LIMIT 1)),
    EXISTS (SELECT 1 FROM {charge} ch WHERE ch.practice_id = %(p)s AND ch.client_id = %(c)s),
    EXISTS (SELECT 1 FROM {enrolment} e
            WHERE e.practice_id = %(p)s AND e.client_id = %(c)s AND e.ended_at IS NULL)
"""


def client_tab_shown(client: Client) -> Shown:
    """The Exists behind each panel, with the filters of ``charges_account``,
    ``client_cards``, ``autopay_client_charges`` and ``autopay_enrolment_on``. One
    statement of fixed text: built through the ORM, its four subqueries cost six times
    what PostgreSQL takes to answer them."""
    sql = _SHOWN_SQL.format(
        account=StripeAccount._meta.db_table,
        card=SavedCard._meta.db_table,
        customer=StripeCustomer._meta.db_table,
        charge=AutoPayCharge._meta.db_table,
        enrolment=AutoPayEnrolment._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {"p": client.practice_id, "c": client.pk})
        row = cursor.fetchone()
    return Shown(*row)


def client_billing_panels(request: object, client: Client) -> Panel | None:
    """The client's Billing tab: saved cards, then AutoPay, each only when it has
    something to show. Billing roles only."""
    req = cast(PracticeRequest, request)
    if req.membership.role not in BILLING_ROLES:
        return None
    shown = client_tab_shown(client)
    panels = [
        panel
        for panel in (client_cards_panel(req, client, shown), client_autopay_panel(client, shown))
        if panel is not None
    ]
    if not panels:
        return None
    return Panel("payments/_client_billing_panels.html", {"panels": panels})
