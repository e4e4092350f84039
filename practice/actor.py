"""Who did something: a signed-in person (and the address their request came from), a
person signed in to the client portal (by the email they proved), or a system job such as
the payments webhook or the background Invoice all.

Services take an ``Actor`` and write from it the names every record keeps: the audit
row's user, label and address, a ledger entry's ``actor_label`` and a row's
``created_by``. Views build one from the request (``Actor.of_user(request.user,
address=client_ip(request))``) and Celery tasks from their job's name
(``Actor.system("invoice_all")``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import User


@dataclass(frozen=True)
class Actor:
    """Exactly one of ``user`` (a staff person), ``portal`` (the email of a client or payer
    signed in to the client portal, who has no user) or ``job`` (a system job's name).
    ``address`` is the person's request address when known; a job has none."""

    user: User | None = None
    job: str | None = None
    address: str | None = None
    portal: str | None = None

    def __post_init__(self) -> None:
        if sum(who is not None for who in (self.user, self.job, self.portal)) != 1:
            raise ValueError("An actor is one of a user, a portal person or a system job.")
        if self.job is not None and self.address is not None:
            raise ValueError("A system job has no request address.")

    @classmethod
    def of_user(cls, user: User, address: str | None = None) -> Actor:
        return cls(user=user, address=address)

    @classmethod
    def of_portal(cls, email: str, address: str | None = None) -> Actor:
        return cls(portal=email, address=address)

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(job=name)

    @classmethod
    def coerce(cls, actor_or_user: Actor | User) -> Actor:
        """``actor_or_user`` as an Actor: a bare user (the callers from before the Actor)
        is that user with no known address."""
        if isinstance(actor_or_user, Actor):
            return actor_or_user
        if actor_or_user is None:
            raise ValueError("An actor is a user or a system job; got nobody.")
        return cls.of_user(actor_or_user)

    @property
    def label(self) -> str:
        """The name kept on ledger entries and audit rows: the user's email as it is now
        (the row keeps it should the user go), ``portal:<email>`` or ``system:<job>``."""
        if self.user is not None:
            return self.user.email
        if self.portal is not None:
            return f"portal:{self.portal}"
        return f"system:{self.job}"

    @property
    def is_system(self) -> bool:
        return self.job is not None
