"""AutoPay's pace (payments/autopay_rate.py): charges share one schedule in Redis, each
taking the slot 1 / AUTOPAY_CHARGES_PER_SECOND after the last, whichever worker asks."""

from __future__ import annotations

import itertools
import threading
import uuid

import pytest

from payments import autopay_rate


@pytest.fixture
def key():
    name = f"test:autopay-rate:{uuid.uuid4().hex}"
    yield name
    autopay_rate._client(autopay_rate.settings.REDIS_URL).delete(name)


def test_slots_are_one_interval_apart_at_the_configured_rate(settings, key):
    settings.AUTOPAY_CHARGES_PER_SECOND = 4

    slots = [autopay_rate.autopay_slot_reserve(key=key)[0] for _ in range(5)]

    # Asked for faster than 4 a second, each slot is 250 ms after the one before.
    assert [b - a for a, b in itertools.pairwise(slots)] == [250_000] * 4


def test_workers_asking_at_once_share_one_schedule(settings, key):
    settings.AUTOPAY_CHARGES_PER_SECOND = 2
    slots: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            slot = autopay_rate.autopay_slot_reserve(key=key)[0]
            with lock:
                slots.append(slot)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    slots.sort()
    assert len(slots) == 20 and len(set(slots)) == 20
    assert {b - a for a, b in itertools.pairwise(slots)} == {500_000}


def test_a_rate_of_zero_is_refused(settings, key):
    settings.AUTOPAY_CHARGES_PER_SECOND = 0
    with pytest.raises(ValueError, match="AUTOPAY_CHARGES_PER_SECOND"):
        autopay_rate.autopay_slot_reserve(key=key)
