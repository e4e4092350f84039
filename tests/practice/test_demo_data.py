"""``manage.py demo_data`` (issue 3 part 13): idempotent, the listed accounts, refused in
production."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.management import call_command
from django.test import Client

from practice.management.commands.demo_data import REFUSED_IN_PRODUCTION
from practice.models import Membership, Practice, Role, User
from tests.practice.helpers import dashboard_url, manage, page_text, sign_in

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"practice", "clients", "appointments", "billing", "payments"}

ACCOUNTS = {
    "owner@harbour.example": ("harbour-street", Role.OWNER),
    "admin@harbour.example": ("harbour-street", Role.ADMIN),
    "biller@harbour.example": ("harbour-street", Role.BILLER),
    "clinician1@harbour.example": ("harbour-street", Role.CLINICIAN),
    "clinician2@harbour.example": ("harbour-street", Role.CLINICIAN),
    "clinician3@harbour.example": ("harbour-street", Role.CLINICIAN),
    "owner@kowhai.example": ("kowhai", Role.OWNER),
}


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count() for model in apps.get_models() if model._meta.app_label in PROJECT_APPS
    }


def test_loading_twice_adds_nothing_the_second_time(capsys):
    call_command("demo_data")
    first = row_counts()
    call_command("demo_data")
    assert row_counts() == first
    assert first["practice.Practice"] == 2
    assert "Demo data ready" in capsys.readouterr().out


def test_the_demo_accounts_exist_with_the_demo_password_and_their_roles():
    call_command("demo_data")
    for email, (slug, role) in ACCOUNTS.items():
        user = User.objects.get(email=email)
        assert user.check_password("practica-demo"), email
        assert user.is_active and not user.is_superuser, email
        membership = Membership.objects.get(user=user)
        assert (membership.practice.slug, membership.role) == (slug, role), email
    harbour = Practice.objects.get(slug="harbour-street")
    assert Membership.objects.filter(practice=harbour, role=Role.CLINICIAN).count() == 3


def test_the_two_practices_have_their_time_zones_and_currencies():
    call_command("demo_data")
    harbour = Practice.objects.get(name="Harbour Street Therapy")
    kowhai = Practice.objects.get(name="Kowhai Counselling")
    assert (harbour.timezone, harbour.currency) == ("America/New_York", "USD")
    assert (kowhai.timezone, kowhai.currency) == ("Pacific/Auckland", "NZD")


def test_the_demo_owner_signs_in_and_lands_on_harbour_street(db):
    call_command("demo_data")
    client = Client()
    response = sign_in(client, "owner@harbour.example", "practica-demo")
    dashboard = client.get(response.url, follow=True)
    harbour = Practice.objects.get(slug="harbour-street")
    assert dashboard.redirect_chain[-1][0] == dashboard_url(harbour)
    assert "Harbour Street Therapy" in page_text(dashboard)


def test_a_second_load_does_not_reset_a_changed_password():
    call_command("demo_data")
    user = User.objects.get(email="owner@harbour.example")
    user.set_password("changed by the person using the demo")
    user.save()
    call_command("demo_data")
    user.refresh_from_db()
    assert user.check_password("changed by the person using the demo")


def test_demo_data_is_refused_in_production():
    result = manage("demo_data")
    assert result.returncode != 0
    assert REFUSED_IN_PRODUCTION in result.stderr
