"""Billing's pages, one module per page or subject (billing/urls.py names each view):

- invoices: + New invoice, the invoice page and its actions, credit invoices, and the
  client Billing tab's Uninvoiced amounts panel
- payments: Add payment, the client picker, a payment's page, deleting a payment
- refunds: Record refund and Write off
- appointments: Create invoice and Bill the client from the appointment page
- home: the Billing page's tabs and Invoice all uninvoiced
- packages: Settings > Packages, selling and refunding a package
- common: what every billing view uses
"""
