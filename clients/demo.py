"""Demo clients. Fixed names and addresses, keyed on (practice, email): loading twice
adds nothing. Called by practice.demo.load_demo_data."""

from __future__ import annotations

from datetime import date

from practice.models import Practice, User

from .models import Client, Payer, PortalAccess

# (first, last, preferred, date of birth)
HARBOUR_CLIENTS = [
    ("Amelia", "Anderson", "", date(1988, 3, 14)),
    ("Benjamin", "Brooks", "Ben", date(1979, 7, 2)),
    ("Charlotte", "Carter", "", date(1992, 11, 23)),
    ("Daniel", "Dawson", "Dan", date(1985, 1, 9)),
    ("Eleanor", "Ellis", "Ellie", date(1990, 5, 30)),
    ("Felix", "Fischer", "", date(1974, 9, 18)),
    ("Georgia", "Grant", "", date(1996, 12, 4)),
    ("Henry", "Hughes", "", date(1968, 2, 27)),
    ("Isla", "Ingram", "", date(2001, 6, 11)),
    ("Jacob", "Jensen", "Jake", date(1983, 8, 15)),
    ("Katherine", "Kim", "Kate", date(1987, 4, 3)),
    ("Liam", "Lopez", "", date(1994, 10, 21)),
    ("Maya", "Murphy", "", date(1999, 1, 28)),
    ("Nathan", "Nguyen", "Nate", date(1981, 3, 7)),
    ("Olivia", "Ortiz", "Liv", date(1993, 7, 19)),
    ("Patrick", "Patel", "", date(1976, 11, 12)),
    ("Quinn", "Quigley", "", date(1998, 2, 16)),
    ("Rachel", "Reyes", "", date(1989, 9, 25)),
    ("Samuel", "Sato", "Sam", date(1972, 5, 8)),
    ("Tessa", "Thompson", "", date(1995, 8, 31)),
    ("Uma", "Underwood", "", date(1986, 12, 20)),
    ("Victor", "Vasquez", "", date(1980, 4, 17)),
    ("Willow", "Walsh", "", date(2000, 10, 2)),
    ("Xavier", "Xu", "", date(1991, 6, 26)),
    ("Yasmin", "Young", "", date(1984, 1, 13)),
    ("Zachary", "Zimmerman", "Zach", date(1977, 3, 29)),
    ("Abigail", "Baker", "Abby", date(1997, 7, 7)),
    ("Caleb", "Coleman", "", date(1982, 9, 3)),
    ("Delia", "Dunn", "", date(1970, 11, 30)),
    ("Ethan", "Evans", "", date(2003, 2, 22)),
    ("Fiona", "Foster", "", date(1988, 8, 8)),
    ("Gabriel", "Gomez", "Gabe", date(1993, 12, 14)),
    ("Hannah", "Hayes", "", date(1975, 6, 5)),
    ("Ivan", "Ivanov", "", date(1990, 10, 10)),
    # A household: Karen Whitaker pays for both of her children.
    ("Lily", "Whitaker", "", date(2013, 4, 12)),
    ("Samuel", "Whitaker", "Sammy", date(2016, 9, 1)),
    # A partner who pays, and a guardian who pays.
    ("Nora", "Bell", "", date(1992, 3, 3)),
    ("Tobi", "Okafor", "", date(2011, 1, 20)),
    ("Megan", "Moss", "", date(1986, 5, 16)),
    ("Owen", "Oakley", "", date(1979, 11, 6)),
]
# (first, last, email, relationship, clients by last name + first name)
HARBOUR_PAYERS = [
    (
        "Karen",
        "Whitaker",
        "karen.whitaker@mail.example",
        Payer.Relationship.PARENT,
        [("Whitaker", "Lily"), ("Whitaker", "Samuel")],
    ),
    ("Marcus", "Bell", "marcus.bell@mail.example", Payer.Relationship.PARTNER, [("Bell", "Nora")]),
    ("Grace", "Okafor", "grace.okafor@mail.example", Payer.Relationship.GUARDIAN, [("Okafor", "Tobi")]),
]
# The client the README and `make run` name for the client portal: billing.demo leaves her
# two unpaid invoices, so the portal shows a red count and Pay full balance.
PORTAL_DEMO_EMAIL = "charlotte.carter@clients.example"
HARBOUR_ARCHIVED = {("Henry", "Hughes"), ("Uma", "Underwood"), ("Delia", "Dunn"), ("Owen", "Oakley")}
HARBOUR_CLINICIANS = ["clinician1@harbour.example", "clinician2@harbour.example", "clinician3@harbour.example"]

KOWHAI_CLIENTS = [
    ("Aroha", "Walker", "", date(1990, 2, 14)),
    ("Tama", "Rangi", "", date(1985, 7, 22)),
    ("Hine", "Parata", "", date(1997, 11, 5)),
    ("James", "Wilson", "Jim", date(1972, 4, 30)),
    ("Mia", "Thompson", "", date(2002, 8, 18)),
    ("Ruby", "Campbell", "", date(1988, 12, 1)),
]


def _email(first: str, last: str) -> str:
    return f"{first}.{last}@clients.example".lower()


def _clients(
    practice: Practice,
    rows: list[tuple[str, str, str, date]],
    *,
    phone_prefix: str,
    address: str,
    clinicians: list[User],
    archived: set[tuple[str, str]],
) -> dict[tuple[str, str], Client]:
    made = {}
    for index, (first, last, preferred, born) in enumerate(rows):
        client, created = Client.objects.get_or_create(
            practice=practice,
            email=_email(first, last),
            defaults={
                "first_name": first,
                "last_name": last,
                "preferred_name": preferred,
                "phone": f"{phone_prefix}{index + 10:02d}",
                "date_of_birth": born,
                "address": address.format(number=index + 1),
                "status": Client.Status.ARCHIVED if (first, last) in archived else Client.Status.ACTIVE,
            },
        )
        if created and clinicians:
            client.clinicians.add(clinicians[index % len(clinicians)])
        made[(last, first)] = client
    return made


def load(*, harbour: Practice, kowhai: Practice) -> str:
    clinicians = [User.objects.get(email=email) for email in HARBOUR_CLINICIANS]
    harbour_clients = _clients(
        harbour,
        HARBOUR_CLIENTS,
        phone_prefix="(207) 555-01",
        address="{number} Fore Street\nPortland, ME 04101",
        clinicians=clinicians,
        archived=HARBOUR_ARCHIVED,
    )
    for first, last, email, relationship, pays_for in HARBOUR_PAYERS:
        payer, _ = Payer.objects.get_or_create(
            practice=harbour,
            email=email,
            defaults={"first_name": first, "last_name": last, "relationship": relationship},
        )
        for key in pays_for:
            client = harbour_clients[key]
            if client.payer_id is None:
                client.payer = payer
                client.save(update_fields=["payer"])
    _clients(
        kowhai,
        KOWHAI_CLIENTS,
        phone_prefix="+64 21 555 0",
        address="{number} Cuba Street\nWellington 6011",
        clinicians=[],
        archived=set(),
    )
    count = Client.objects.filter(practice__in=[harbour, kowhai]).count()
    access = _portal_access([harbour, kowhai])
    return f"{count} clients, {access} with portal access"


def _portal_access(practices: list[Practice]) -> int:
    """Portal access for every active demo client (and so for the payers of those with
    one), as a Portal invitation would grant it, without the emails."""
    clients = Client.objects.filter(practice__in=practices, status=Client.Status.ACTIVE, portal_access__isnull=True)
    PortalAccess.objects.bulk_create(
        [PortalAccess(practice_id=client.practice_id, client=client) for client in clients], ignore_conflicts=True
    )
    return PortalAccess.objects.filter(practice__in=practices, revoked_at__isnull=True).count()
