"""The dashboard: today's sessions for everyone, the money figures for billing staff."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from appointments.services import appointment_mark_completed
from billing.services import invoice_create
from tests.factories import ClientFactory, ServiceFactory, make_appointment, past_start
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db


def test_biller_sees_uninvoiced_outstanding_and_overdue(tenant, other_tenant, django_assert_max_num_queries):
    practice = tenant.practice
    service = ServiceFactory(practice=practice, price=Decimal("150.00"))
    ana = ClientFactory(practice=practice)
    for days in (3, 2):
        appointment = make_appointment(
            practice=practice,
            actor=tenant.owner,
            clinician=tenant.clinician,
            clients=[ana],
            services=[service],
            start=past_start(practice, days=days),
        )
        appointment_mark_completed(appointment=appointment, actor=tenant.owner)
    first = ana.billing_items.order_by("date").first()
    invoice_create(practice=practice, client=ana, actor=tenant.owner, item_ids=[first.pk], issue=True)
    url = reverse("dashboard", kwargs={"practice_slug": practice.slug})

    client = signed_in(tenant.biller)
    # 14 before the panels (issue 12): the to-do counts (4) and the weekly chart (2) are fixed reads.
    with django_assert_max_num_queries(20):
        page = client.get(url).content.decode()

    def tile(label: str) -> str:
        return f'<span class="tile-label">{label}</span><span class="tile-value">'

    assert tile("Uninvoiced") + "$150.00" in page  # the second session
    assert tile("Outstanding") + "$150.00" in page  # the issued invoice
    assert tile("Overdue") + "$0.00" in page  # due in 14 days


def test_clinician_sees_only_their_sessions_and_no_money(tenant, other_tenant):
    practice = tenant.practice
    service = ServiceFactory(practice=practice, price=Decimal("150.00"))
    ana = ClientFactory(practice=practice)
    today = practice.local_now().replace(hour=8, minute=0, second=0, microsecond=0)
    make_appointment(
        practice=practice,
        actor=tenant.owner,
        clinician=tenant.clinician2,
        clients=[ana],
        services=[service],
        start=today,
    )
    url = reverse("dashboard", kwargs={"practice_slug": practice.slug})

    mine = signed_in(tenant.clinician).get(url).content.decode()
    theirs = signed_in(tenant.clinician2).get(url).content.decode()

    assert "Sessions today" in mine and "Uninvoiced" not in mine
    assert '<span class="tile-value">0</span>' in mine
    assert '<span class="tile-value">1</span>' in theirs


# 20:55 UTC on Thursday 15 January 2026: 15:55 that Thursday in New York, but already
# 09:55 on Friday 16 January in Auckland.
EVENING_UTC = datetime(2026, 1, 15, 20, 55, tzinfo=UTC)


@pytest.mark.parametrize(
    ("timezone", "locale", "shown"),
    [
        ("America/New_York", "en_US", "Thursday 15 January 2026, 3:55 PM in America/New_York"),
        ("Pacific/Auckland", "en_NZ", "Friday 16 January 2026, 9:55 AM in Pacific/Auckland"),
        ("Europe/London", "en_GB", "Thursday 15 January 2026, 20:55 in Europe/London"),
    ],
)
def test_the_clock_shows_the_practices_own_time_and_date(tenant, time_machine, timezone, locale, shown):
    """In the practice's time zone and in its locale's clock (12- or 24-hour)."""
    practice = tenant.practice
    practice.timezone, practice.locale = timezone, locale
    practice.save(update_fields=["timezone", "locale"])
    time_machine.move_to(EVENING_UTC, tick=False)

    page = signed_in(tenant.owner).get(reverse("dashboard", kwargs={"practice_slug": practice.slug}))

    clock = re.search(r'data-testid="practice-clock"><time datetime="([^"]+)">([^<]+)</time>([^·]+)', page.text)
    assert clock, "the dashboard shows no clock"
    assert (clock.group(2) + clock.group(3)).strip() == shown
    assert datetime.fromisoformat(clock.group(1)) == EVENING_UTC
