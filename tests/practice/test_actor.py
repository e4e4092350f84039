"""The Actor: who a service acts for, and the names audit rows and ledger entries keep."""

from __future__ import annotations

import pytest

from practice.actor import Actor
from practice.audit import audit_write

pytestmark = pytest.mark.django_db


def test_a_person_is_labelled_by_their_email(tenant):
    actor = Actor.of_user(tenant.owner, address="198.51.100.7")
    assert (actor.user, actor.label, actor.address, actor.is_system) == (
        tenant.owner,
        tenant.owner.email,
        "198.51.100.7",
        False,
    )


def test_a_system_job_is_labelled_system_and_its_name():
    actor = Actor.system("payments")
    assert (actor.user, actor.label, actor.address, actor.is_system) == (None, "system:payments", None, True)


def test_coerce_takes_a_bare_user_as_that_user_with_no_address(tenant):
    assert Actor.coerce(tenant.owner) == Actor.of_user(tenant.owner)
    job = Actor.system("invoice_all")
    assert Actor.coerce(job) is job


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"job": "payments", "address": "198.51.100.7"}],
    ids=["nobody", "job-with-address"],
)
def test_an_actor_is_a_user_or_a_job(kwargs):
    with pytest.raises(ValueError):
        Actor(**kwargs)


def test_coerce_refuses_nobody():
    with pytest.raises(ValueError):
        Actor.coerce(None)  # type: ignore[arg-type]  # the refusal is what is tested


def test_an_audit_row_keeps_the_actors_address(tenant):
    row = audit_write(
        practice=tenant.practice, actor=Actor.of_user(tenant.owner, address="203.0.113.4"), action="x.done"
    )
    assert (row.actor, row.actor_label, row.ip_address) == (tenant.owner, tenant.owner.email, "203.0.113.4")
