"""Settings > Online payments: connecting a practice's Stripe account through the fake."""

from __future__ import annotations

import pytest
import requests

from billing.submission import FIELD, submission_key_new
from payments.models import ConnectOnboarding, StripeAccount
from practice.models import Role
from tests.helpers import signed_in, url


def _setup(client, tenant, key=None):
    return client.post(url(tenant, "payments:connect_start"), {FIELD: key or submission_key_new()})


def _accounts(fake):
    return [r for r in fake.control.requests() if r["method"] == "POST" and r["path"] == "/v1/accounts"]


def _finish_on_page(fake, link, outcome):
    """What the owner does on Stripe's page: submit, and follow the redirect back to the app."""
    page = requests.get(link, timeout=10)
    assert page.status_code == 200 and "Set up payments with Stripe" in page.text
    answer = requests.post(link, data={"outcome": outcome}, allow_redirects=False, timeout=10)
    assert answer.status_code in (302, 303)
    return answer.headers["Location"]


def test_complete_setup_twice_with_one_key_makes_one_account(app_on_fake, tenant, other_tenant):
    owner = signed_in(tenant.owner)
    page = owner.get(url(tenant, "payments:online_payments"))
    assert "Online payments: not set up" in page.content.decode()

    key = submission_key_new()
    first = _setup(owner, tenant, key)
    second = _setup(owner, tenant, key)

    assert first.status_code == 302 and first["Location"].startswith(app_on_fake.url + "/setup/")
    assert second["Location"] == first["Location"]
    assert len(_accounts(app_on_fake)) == 1
    assert StripeAccount.objects.filter(practice=tenant.practice).count() == 1
    assert ConnectOnboarding.objects.filter(practice=tenant.practice).count() == 1


def test_a_second_tab_reuses_the_account(app_on_fake, tenant, other_tenant):
    owner = signed_in(tenant.owner)
    _setup(owner, tenant)
    again = _setup(owner, tenant)  # another key: a second tab, or Continue setup

    assert again.status_code == 302
    assert len(_accounts(app_on_fake)) == 1
    links = [r for r in app_on_fake.control.requests() if r["path"] == "/v1/account_links"]
    assert len({r["idempotency_key"] for r in links}) == 2


@pytest.mark.parametrize(
    ("outcome", "shown", "continue_setup", "online"),
    [
        ("complete", "Stripe connected", False, True),
        ("pending", "Pending verification", False, False),
        ("action_required", "Action required", True, False),
    ],
)
def test_the_return_page_shows_the_state_read_from_stripe(
    app_on_fake, tenant, other_tenant, outcome, shown, continue_setup, online
):
    owner = signed_in(tenant.owner)
    link = _setup(owner, tenant)["Location"]
    back = _finish_on_page(app_on_fake, link, outcome)
    assert back.endswith(url(tenant, "payments:connect_return"))

    page = owner.get(back, follow=True).content.decode()

    assert shown in page
    assert ("Continue setup" in page) is continue_setup
    tenant.practice.refresh_from_db()
    assert tenant.practice.online_payments_enabled is online
    account = StripeAccount.objects.get(practice=tenant.practice)
    assert account.details_submitted is True
    other_tenant.practice.refresh_from_db()
    assert other_tenant.practice.online_payments_enabled is False


def test_the_return_never_trusts_the_redirect(app_on_fake, tenant, other_tenant):
    owner = signed_in(tenant.owner)
    _setup(owner, tenant)  # onboarding never finished at Stripe

    page = owner.get(url(tenant, "payments:connect_return"), follow=True).content.decode()

    assert "Action required" in page and "Continue setup" in page
    tenant.practice.refresh_from_db()
    assert tenant.practice.online_payments_enabled is False


def test_dashboard_and_disconnect(app_on_fake, tenant, other_tenant):
    owner = signed_in(tenant.owner)
    link = _setup(owner, tenant)["Location"]
    owner.get(_finish_on_page(app_on_fake, link, "complete"))

    dashboard = owner.post(url(tenant, "payments:connect_dashboard"))
    assert dashboard.status_code == 302 and "/express/" in dashboard["Location"]
    assert requests.get(dashboard["Location"], timeout=10).status_code == 200

    confirm = owner.get(url(tenant, "payments:connect_disconnect"))
    assert "Online payments stop" in confirm.content.decode()
    done = owner.post(url(tenant, "payments:connect_disconnect"), follow=True).content.decode()

    assert "Stripe disconnected" in done and "Complete Stripe setup" in done
    tenant.practice.refresh_from_db()
    assert tenant.practice.online_payments_enabled is False
    assert StripeAccount.objects.get(practice=tenant.practice).disconnected_at is not None


def test_a_stripe_outage_changes_nothing_and_the_retry_makes_one_account(app_on_fake, tenant, other_tenant, settings):
    settings.STRIPE_TIMEOUT_SECONDS = 0.3
    app_on_fake.control.fail_next("timeout", delay=0.6, perform=True, count=3, path="/v1/accounts")
    owner = signed_in(tenant.owner)
    key = submission_key_new()

    failed = _setup(owner, tenant, key)
    assert failed["Location"] == url(tenant, "payments:online_payments")
    assert not StripeAccount.objects.filter(practice=tenant.practice).exists()
    retried = _setup(owner, tenant, key)

    assert retried["Location"].startswith(app_on_fake.url + "/setup/")
    ids = {r["idempotency_key"] for r in _accounts(app_on_fake)}
    assert len(ids) == 1
    assert len([a for a in app_on_fake.control.call("GET", "state").values() if a["object"] == "account"]) == 1


@pytest.mark.parametrize("role", [Role.BILLER, Role.CLINICIAN])
def test_only_owner_and_admin_may_connect(app_on_fake, tenant, other_tenant, role):
    user = signed_in(tenant.member(role))
    for name in ("online_payments", "connect_return", "connect_disconnect"):
        assert user.get(url(tenant, f"payments:{name}")).status_code == 403
    assert _setup(user, tenant).status_code == 403
    assert _accounts(app_on_fake) == []


def test_admin_may_connect_and_another_practice_is_not_found(app_on_fake, tenant, other_tenant):
    admin = signed_in(tenant.admin)
    assert admin.get(url(tenant, "payments:online_payments")).status_code == 200
    assert admin.get(url(other_tenant, "payments:online_payments")).status_code == 404
    assert _setup(admin, other_tenant).status_code == 404
    assert _accounts(app_on_fake) == []


def test_settings_lists_online_payments_for_the_owner(tenant, other_tenant):
    page = signed_in(tenant.owner).get(url(tenant, "settings")).content.decode()
    assert "Online payments" in page and url(tenant, "payments:online_payments") in page


def test_the_page_lets_its_forms_lead_to_stripe_and_nowhere_else(app_on_fake, tenant, other_tenant):
    page = signed_in(tenant.owner).get(url(tenant, "payments:online_payments"))
    policy = page["Content-Security-Policy"]
    form_action = next(d for d in policy.split(";") if d.strip().startswith("form-action"))
    assert form_action.split()[1:] == ["'self'", "https://connect.stripe.com", app_on_fake.url]


def test_after_disconnect_setup_connects_a_new_account(app_on_fake, tenant, other_tenant):
    owner = signed_in(tenant.owner)
    first = _setup(owner, tenant)["Location"]
    owner.get(_finish_on_page(app_on_fake, first, "complete"))
    old = StripeAccount.objects.get(practice=tenant.practice).stripe_account_id
    owner.post(url(tenant, "payments:connect_disconnect"))

    link = _setup(owner, tenant)["Location"]
    page = owner.get(_finish_on_page(app_on_fake, link, "complete"), follow=True).content.decode()

    account = StripeAccount.objects.get(practice=tenant.practice)
    assert account.stripe_account_id != old and account.disconnected_at is None
    assert "Stripe connected" in page
    assert len(_accounts(app_on_fake)) == 2
    tenant.practice.refresh_from_db()
    assert tenant.practice.online_payments_enabled is True
