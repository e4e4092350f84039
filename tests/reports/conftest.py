from __future__ import annotations

import pytest

from tests.reports.story import Story, build_other_practice_money, build_story


@pytest.fixture
def story(tenant, other_tenant) -> Story:
    """The story of tests/reports/story.py, beside the look-alike practice's own money."""
    build_other_practice_money(other_tenant)
    return build_story(tenant)
