"""Objects of the other practice for ids that app URLs take (used by test_tenancy_urls).

Each app adds the kwarg names of its own URLs here as it grows.
"""

from __future__ import annotations


def extra_foreign_ids(other_tenant) -> dict[str, int]:
    return {}
