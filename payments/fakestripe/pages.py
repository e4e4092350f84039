"""The fake's hosted pages: Checkout, the 3-D Secure step, Express onboarding and dashboard.

Plain, accessible HTML (landmarks, labels, an alert region), because browser tests run axe on
every page they visit, including these.
"""

from __future__ import annotations

from html import escape
from typing import Any

Obj = dict[str, Any]

ZERO_DECIMAL = {
    "bif",
    "clp",
    "djf",
    "gnf",
    "jpy",
    "kmf",
    "krw",
    "mga",
    "pyg",
    "rwf",
    "ugx",
    "vnd",
    "vuv",
    "xaf",
    "xof",
    "xpf",
}

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; background: #f6f8fa; color: #1a1f36; }
.banner { background: #fff4d6; color: #5a3b00; padding: .5rem 1rem; text-align: center; font-size: .9rem; }
main { max-width: 28rem; margin: 2rem auto; background: #fff; padding: 1.5rem 2rem; border-radius: .5rem;
       box-shadow: 0 1px 3px rgba(0,0,0,.15); }
h1 { font-size: 1.4rem; margin-top: 0; }
label { display: block; margin-top: .8rem; font-weight: 600; }
input { width: 100%; box-sizing: border-box; padding: .5rem; font-size: 1rem; border: 1px solid #6b7280;
        border-radius: .25rem; }
.row { display: flex; gap: 1rem; } .row > div { flex: 1; }
button { margin-top: 1.2rem; padding: .6rem 1rem; font-size: 1rem; border-radius: .25rem; border: 0;
         background: #4f46e5; color: #fff; cursor: pointer; width: 100%; }
button.secondary { background: #fff; color: #1a1f36; border: 1px solid #6b7280; }
.error { background: #fdecea; color: #8a1c12; padding: .6rem; border-radius: .25rem; margin: .8rem 0; }
.amount { font-size: 1.8rem; font-weight: 700; margin: .2rem 0 1rem; }
.hint { color: #4b5563; font-size: .85rem; }
table { width: 100%; border-collapse: collapse; } td, th { text-align: left; padding: .3rem; }
"""


def money(amount: int | None, currency: str | None) -> str:
    if amount is None or currency is None:
        return ""
    if currency.lower() in ZERO_DECIMAL:
        return f"{amount:,} {currency.upper()}"
    return f"{amount / 100:,.2f} {currency.upper()}"


def page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        '<header><div class="banner" role="note">Test mode: this is a simulated Stripe. No real card is charged.'
        "</div></header>"
        f"<main><h1>{escape(title)}</h1>{body}</main></body></html>"
    )


def _error(message: str | None) -> str:
    return f'<div class="error" role="alert">{escape(message)}</div>' if message else '<div role="alert"></div>'


def checkout(cs: Obj, *, business: str, email: str | None, error: str | None) -> str:
    setup = cs["mode"] == "setup"
    title = f"Save a card with {business}" if setup else f"Pay {business}"
    parts = []
    if not setup:
        parts.append(f'<p class="amount" data-testid="amount">{escape(money(cs["amount_total"], cs["currency"]))}</p>')
        items = "".join(
            f"<li>{escape(li['description'])} &times; {li['quantity']}: "
            f"{escape(money(li['amount_total'], li['currency']))}</li>"
            for li in cs.get("_line_items", [])
        )
        parts.append(f'<ul aria-label="Items">{items}</ul>')
    else:
        parts.append("<p>Your card will be saved for future payments. You are not charged now.</p>")
    parts.append(_error(error))
    parts.append(f"""
<form method="post" action="/c/pay/{escape(cs["id"])}">
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="email" value="{escape(email or "")}">
  <label for="cardnumber">Card number</label>
  <input id="cardnumber" name="cardnumber" inputmode="numeric" autocomplete="cc-number"
         placeholder="4242 4242 4242 4242" required>
  <div class="row">
    <div><label for="exp">Expiry (MM / YY)</label>
      <input id="exp" name="exp" autocomplete="cc-exp" placeholder="MM / YY" required></div>
    <div><label for="cvc">CVC</label>
      <input id="cvc" name="cvc" inputmode="numeric" autocomplete="cc-csc" placeholder="123" required></div>
  </div>
  <label for="name">Name on card</label>
  <input id="name" name="name" autocomplete="cc-name">
  <button type="submit">{"Save card" if setup else "Pay " + escape(money(cs["amount_total"], cs["currency"]))}</button>
</form>
<p class="hint">Test cards: 4242 4242 4242 4242 succeeds; 4000 0000 0000 0002 is declined;
4000 0025 0000 3155 asks for authentication. Any future expiry and any CVC.</p>""")
    if cs.get("cancel_url"):
        parts.append(f'<p><a href="{escape(cs["cancel_url"])}">Back</a></p>')
    return page(title, "".join(parts))


def closed(cs: Obj, *, business: str) -> str:
    if cs["status"] == "complete":
        message = "This payment is already complete." if cs["mode"] == "payment" else "This card is already saved."
    else:
        message = "This checkout session has expired and can no longer be paid."
    body = f'<p role="status">{escape(message)}</p>'
    if cs["status"] == "complete" and cs.get("success_url"):
        body += f'<p><a href="{escape(cs["success_url"].replace("{CHECKOUT_SESSION_ID}", cs["id"]))}">Continue</a></p>'
    elif cs.get("cancel_url"):
        body += f'<p><a href="{escape(cs["cancel_url"])}">Back</a></p>'
    return page(f"{business}: checkout", body)


def done(title: str, message: str) -> str:
    return page(title, f'<p role="status">{escape(message)}</p>')


def authenticate(intent: Obj) -> str:
    amount = money(intent.get("amount"), intent.get("currency")) if intent["object"] == "payment_intent" else ""
    what = f"a payment of {amount}" if amount else "saving this card"
    return page(
        "Authenticate your card",
        f"""<p>Your bank asks you to confirm {escape(what)}. This is a test authentication page.</p>
<form method="post" action="/c/authenticate/{escape(intent["id"])}">
  <button type="submit" name="action" value="complete">Complete authentication</button>
  <button type="submit" name="action" value="fail" class="secondary">Fail authentication</button>
</form>""",
    )


def onboarding(acct: Obj, token: str) -> str:
    who = acct.get("email") or acct["id"]
    return page(
        "Set up payments with Stripe",
        f"""<p>Account {escape(acct["id"])} ({escape(who)}). In test mode no details are needed:
choose how this onboarding ends.</p>
<form method="post" action="/setup/s/{escape(acct["id"])}/{escape(token)}">
  <button type="submit" name="outcome" value="complete">Submit</button>
  <button type="submit" name="outcome" value="pending" class="secondary">Submit, verification pending</button>
  <button type="submit" name="outcome" value="action_required" class="secondary">Submit without bank account</button>
  <button type="submit" name="outcome" value="later" class="secondary">Return without finishing</button>
</form>""",
    )


def dashboard(acct: Obj, charges: list[Obj], payouts: list[Obj]) -> str:
    status = "Charges enabled" if acct["charges_enabled"] else "Charges not enabled"
    rows = "".join(
        f"<tr><td>{escape(c['id'])}</td><td>{escape(money(c['amount'], c['currency']))}</td>"
        f"<td>{escape(c['status'])}{' (refunded)' if c['refunded'] else ''}{' (disputed)' if c['disputed'] else ''}"
        "</td></tr>"
        for c in charges
    )
    payout_rows = "".join(
        f"<tr><td>{escape(p['id'])}</td><td>{escape(money(p['amount'], p['currency']))}</td>"
        f"<td>{escape(p['status'])}</td></tr>"
        for p in payouts
    )
    return page(
        "Express dashboard",
        f"""<p>{escape(acct["id"])}: {escape(status)}.</p>
<h2>Payments</h2><table><thead><tr><th scope="col">Charge</th><th scope="col">Amount</th>
<th scope="col">Status</th></tr></thead><tbody>{rows}</tbody></table>
<h2>Payouts</h2><table><thead><tr><th scope="col">Payout</th><th scope="col">Amount</th>
<th scope="col">Status</th></tr></thead><tbody>{payout_rows}</tbody></table>""",
    )


def payment(acct_id: str, pi: Obj, ch: Obj | None, txn: Obj | None) -> str:
    """The platform's Dashboard view of one payment on a connected account (Stripe's
    dashboard.stripe.com/<acct>/test/payments/<pi>)."""
    facts = [
        ("Account", acct_id),
        ("PaymentIntent", pi["id"]),
        ("Amount", money(pi["amount"], pi["currency"])),
        ("Status", pi["status"]),
        ("Charge", ch["id"] if ch else "—"),
    ]
    if ch:
        facts.append(("Refunded", money(ch["amount_refunded"], ch["currency"])))
        facts.append(("Disputed", "yes" if ch["disputed"] else "no"))
    if txn:
        facts.append(("Stripe fee", money(txn["fee"], txn["currency"])))
        facts.append(("Net", money(txn["net"], txn["currency"])))
    rows = "".join(f'<tr><th scope="row">{escape(k)}</th><td>{escape(str(v))}</td></tr>' for k, v in facts)
    return page("Payment", f'<table data-testid="dashboard-payment"><tbody>{rows}</tbody></table>')
