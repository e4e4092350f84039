"""The practice's letterhead as every document prints it (statements and superbills; the
invoice's Document carries the same fields itself): from the invoice template."""

from __future__ import annotations

from dataclasses import dataclass

from practice.models import InvoiceTemplate

from .content import _issuer_contact, _logo


@dataclass(frozen=True)
class Letterhead:
    layout: str
    theme_colour: str
    issuer_name: str
    issuer_address: str
    issuer_contact: str
    issuer_tax_id: str
    footer: str
    # The logo as the PDF reads it (a file:// URL); "" for none.
    logo_file_url: str


def letterhead_of(template: InvoiceTemplate) -> Letterhead:
    return Letterhead(
        layout=template.layout,
        theme_colour=template.theme_colour,
        issuer_name=template.issuer_name,
        issuer_address=template.issuer_address,
        issuer_contact=_issuer_contact(template.practice),
        issuer_tax_id=template.issuer_tax_id,
        footer=template.footer,
        logo_file_url=_logo(template)[0],
    )
