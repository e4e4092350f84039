"""Factories for the clients app: clients and their payers."""

from __future__ import annotations

import factory

from clients.models import Client, Payer

from .practice import PracticeFactory


class PayerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payer

    practice = factory.SubFactory(PracticeFactory)
    first_name = factory.Sequence(lambda n: f"Payer{n}")
    last_name = "Parent"
    email = factory.Sequence(lambda n: f"payer{n}@mail.test")
    relationship = Payer.Relationship.PARENT


class ClientFactory(factory.django.DjangoModelFactory):
    """A client with numbered names, email and phone (unique, so a page or a search shows
    exactly the clients a test made); ``clinicians=[...]`` assigns clinicians."""

    class Meta:
        model = Client
        skip_postgeneration_save = True

    practice = factory.SubFactory(PracticeFactory)
    first_name = factory.Sequence(lambda n: f"First{n:04d}")
    last_name = factory.Sequence(lambda n: f"Last{n:04d}")
    email = factory.Sequence(lambda n: f"client{n}@mail.test")
    phone = factory.Sequence(lambda n: f"555-{n:04d}")

    @factory.post_generation
    def clinicians(self, create, extracted, **kwargs):
        if create and extracted:
            self.clinicians.set(extracted)
