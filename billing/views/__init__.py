"""Billing's pages, one module per page or subject (billing/urls.py names each view):

- invoices: + New invoice, the invoice page and its actions, credit invoices, and the
  client Billing tab's Uninvoiced amounts panel
- payments: Add payment, the client picker, a payment's page, deleting a payment
- refunds: Record refund and Write off
- appointments: Create invoice, Bill the client and a billing detail's Edit, from the
  appointment page
- home: the Billing page's tabs and Invoice all uninvoiced
- packages: Settings > Packages, selling and refunding a package
- settings: Settings > Billing details and its tax rates
- common: what every billing view uses
"""
