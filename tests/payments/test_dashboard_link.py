"""Open Stripe dashboard: each click is an audit row whose id keys the login link's POST, so a
retry of the click gets its own link back and the next click a fresh one."""

from __future__ import annotations

import pytest
import requests

from payments.models import StripeAccount
from payments.services import DASHBOARD_OPENED
from practice.models import AuditLog
from tests.helpers import signed_in, url

from .helpers import connected_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(app_on_fake, tenant):
    return StripeAccount.objects.create(
        practice=tenant.practice, stripe_account_id=connected_account(app_on_fake), charges_enabled=True
    )


def login_posts(fake, account):
    path = f"/v1/accounts/{account.stripe_account_id}/login_links"
    return [r for r in fake.control.requests() if r["method"] == "POST" and r["path"] == path]


def test_each_click_is_audited_and_keys_its_own_login_link(app_on_fake, account, tenant, other_tenant):
    owner = signed_in(tenant.owner)

    first = owner.post(url(tenant, "payments:connect_dashboard"))
    second = owner.post(url(tenant, "payments:connect_dashboard"))

    assert first.status_code == second.status_code == 302
    assert first["Location"] != second["Location"]
    assert requests.get(second["Location"], timeout=10).status_code == 200
    clicks = list(AuditLog.objects.filter(action=DASHBOARD_OPENED).order_by("pk"))
    assert [(c.practice_id, c.actor_id, c.object_id) for c in clicks] == [
        (tenant.practice.pk, tenant.owner.pk, str(account.pk))
    ] * 2
    assert [r["idempotency_key"] for r in login_posts(app_on_fake, account)] == [f"login:{c.pk}:link" for c in clicks]


def test_a_click_retried_after_a_timeout_gets_its_link_back(app_on_fake, account, tenant, settings):
    settings.STRIPE_TIMEOUT_SECONDS = 0.3
    app_on_fake.control.fail_next(
        "timeout", delay=0.6, perform=True, path=f"/v1/accounts/{account.stripe_account_id}/login_links"
    )

    response = signed_in(tenant.owner).post(url(tenant, "payments:connect_dashboard"))

    # stripe-python retried with the same key: one link made, the retry answered with it
    posts = login_posts(app_on_fake, account)
    assert len(posts) == 2 and len({r["idempotency_key"] for r in posts}) == 1
    assert posts[1]["replayed"] is True
    assert response.status_code == 302 and "/express/" in response["Location"]
