"""Prove the books agree: invoice totals equal their lines, balances equal the ledger."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.ledger_verify import ledger_verify
from practice.models import Practice


class Command(BaseCommand):
    help = "Check every invoice's stored totals against its lines and every balance against the ledger."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--practice", help="Slug of one practice (default: all).")

    def handle(self, *args: Any, **options: Any) -> None:
        practice = None
        if options["practice"]:
            practice = Practice.objects.filter(slug=options["practice"]).first()
            if practice is None:
                raise CommandError(f"No practice with slug {options['practice']!r}.")
        problems = ledger_verify(practice)
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} problem(s) found.")
        self.stdout.write(self.style.SUCCESS("Ledger verified: invoices equal their lines, balances equal the ledger."))
