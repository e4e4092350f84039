"""The practice switcher: a person in two practices sees both, and home opens the last one used."""

from __future__ import annotations

import pytest
from django.urls import reverse

from practice.models import Membership, Role
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db


def test_the_switcher_lists_every_practice_and_home_goes_to_the_last_one(tenant, other_tenant):
    # Given the owner also works at the twin practice as a clinician
    Membership.objects.create(user=tenant.owner, practice=other_tenant.practice, role=Role.CLINICIAN)
    browser = signed_in(tenant.owner)
    # With no practice opened yet, home asks which one
    chooser = browser.get(reverse("home")).content.decode()
    assert chooser.count("Harbour Street Therapy") == 2
    # The switcher on a practice page links to both
    page = browser.get(reverse("dashboard", kwargs={"practice_slug": other_tenant.practice.slug})).content.decode()
    for practice in (tenant.practice, other_tenant.practice):
        assert f'href="{practice.get_absolute_url()}"' in page
    # Home now opens the practice used last
    assert browser.get(reverse("home")).url == other_tenant.practice.get_absolute_url()
