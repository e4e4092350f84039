"""Load the demo practices. Safe to run again: nothing is added twice."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from practice.demo import load_demo_data

REFUSED_IN_PRODUCTION = "Demo data (with its shared demo password) is never loaded in production."


class Command(BaseCommand):
    help = "Create or update the demo practices Harbour Street Therapy and Kowhai Counselling."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError(REFUSED_IN_PRODUCTION)
        summary = load_demo_data()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready: {summary}"))
