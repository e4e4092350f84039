"""After a form error the page leads with a summary linking to each field (issue 12)."""

from __future__ import annotations

import re

import pytest

from practice.forms import SIGN_IN_FAILED
from tests.helpers import signed_in, url
from tests.practice.helpers import page_text

pytestmark = pytest.mark.django_db

SUMMARY = re.compile(r'<div class="form-errors" role="alert" tabindex="-1" data-error-summary[^>]*>(.*?)</div>', re.S)


def test_a_password_change_with_errors_links_each_error_to_its_field(tenant):
    response = signed_in(tenant.owner).post(
        url(tenant.practice, "security"),
        {"form": "password", "old_password": "wrong", "new_password1": "short", "new_password2": "other"},
    )
    assert response.status_code == 400
    page = page_text(response)
    summaries = SUMMARY.findall(page)
    assert len(summaries) == 1
    links = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summaries[0])
    assert [target for target, _text in links][:2] == ["id_old_password", "id_new_password2"]
    for target, text in links:
        assert f'id="{target}"' in page, f"{text} links to a missing field"
        assert ": " in text
    # The fields' own messages are not a second, competing alert.
    assert page.count('role="alert"') == 1


def test_a_failed_sign_in_summarises_the_form_error(client, tenant):
    response = client.post("/signin/", {"username": tenant.owner.email, "password": "not-it"})
    summaries = SUMMARY.findall(page_text(response))
    assert len(summaries) == 1
    assert SIGN_IN_FAILED in summaries[0]
    assert "<a " not in summaries[0]  # not a field's error: nothing to link to


def test_a_valid_page_has_no_summary(tenant):
    assert "data-error-summary" not in page_text(signed_in(tenant.owner).get(url(tenant.practice, "security")))
