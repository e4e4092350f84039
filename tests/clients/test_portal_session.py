"""The portal session and its decorator: who gets in, what they see, and who does not."""

from __future__ import annotations

import pytest

from tests.factories import ClientFactory
from tests.helpers import signed_in
from tests.portal import grant_portal, portal_signed_in

pytestmark = pytest.mark.django_db


def test_a_client_with_access_sees_the_portal_home_with_the_practices_name(practice):
    client = ClientFactory(practice=practice, email="ann@mail.test")
    grant_portal(client)

    page = portal_signed_in(client).get("/portal/")

    assert page.status_code == 200
    assert practice.name in page.content.decode()
    assert page["Cache-Control"] == "private, no-store"


def test_without_a_portal_session_the_portal_sends_you_to_sign_in(db):
    from django.test import Client

    page = Client().get("/portal/")

    assert page.status_code == 302
    assert page["Location"] == "/portal/signin/"


def test_a_staff_session_is_not_a_portal_session(tenant):
    page = signed_in(tenant.owner).get("/portal/")

    assert page.status_code == 403
    assert "signed in as a member of staff" in page.content.decode()
