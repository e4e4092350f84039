"""Helpers the browser tests share."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path

from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.helpers import PASSWORD

# A phone's viewport, and what a page must not do on it (the stacked-card tables).
PHONE = {"width": 375, "height": 812}
# Boxes wider than they show: the page, or a table inside its sideways-scrolling wrapper.
SCROLLS_SIDEWAYS = """() => [document.documentElement, ...document.querySelectorAll('.table-wrap')]
  .filter(el => el.scrollWidth > el.clientWidth + 1).map(el => el.className || el.tagName)"""
# Elements (figures, links, badges, boxes to tick) inside main that reach past either edge.
OFF_SCREEN = """(width) => [...document.querySelectorAll(
    'main td, main td a, main td .badge, main td input, main caption')]
  .filter(el => el.offsetParent !== null)
  .map(el => [el, el.getBoundingClientRect()])
  .filter(([el, r]) => r.left < 0 || r.right > width)
  .map(([el, r]) => el.tagName + ' "' + el.textContent.trim().slice(0, 30) + '" '
    + Math.round(r.left) + '..' + Math.round(r.right));
"""
# Boxes to tick smaller than 24 x 24 px (WCAG 2.5.8).
SMALL_BOXES = """() => [...document.querySelectorAll('main input[type=checkbox]')]
  .filter(el => el.offsetParent !== null)
  .map(el => [el, el.getBoundingClientRect()])
  .filter(([el, r]) => r.width < 24 || r.height < 24)
  .map(([el, r]) => (el.getAttribute('aria-label') || el.id) + ' ' + Math.round(r.width) + 'x' + Math.round(r.height));
"""

AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
# Minor findings are advice; everything from moderate up fails the test.
AXE_FAILING_IMPACTS = ("critical", "serious", "moderate")

_RUN_AXE = """async (impacts) => {
    const results = await window.axe.run(document, {resultTypes: ["violations"]});
    return results.violations
        .filter((v) => impacts.includes(v.impact))
        .map((v) => ({
            id: v.id,
            impact: v.impact,
            help: v.help,
            targets: v.nodes.map((n) => n.target.join(" ")),
        }));
}"""


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Sign in through the form, as a person would."""
    page.goto("/signin/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def pick(page: Page, label: str, typed: str, option: str) -> None:
    """Choose ``option`` in the type-ahead picker labelled ``label`` by typing ``typed``,
    then close its list, as a person would, before anything else is touched.

    On a loaded machine the picker's timers run late: its list can close between the
    typing and the click, and a key pressed at the page can land before the picker has
    its focus back. So the option is awaited (the list opened again if it closed), and
    Escape goes to the picker's own text box until its list is gone.
    """
    control = page.get_by_role("combobox", name=label, exact=True)
    dropdown = page.locator("#" + (control.get_attribute("aria-controls") or ""))
    choice = dropdown.get_by_role("option", name=option).first
    control.click()
    control.press_sequentially(typed)
    for _ in range(3):
        try:
            choice.wait_for(state="visible", timeout=3000)
            break
        except PlaywrightTimeoutError:
            control.fill("")
            control.click()
            control.press_sequentially(typed)
    choice.click()
    for attempt in range(4):
        # Escape first, as a keyboard user would; if a late refresh of the picker keeps
        # opening the list again, leave the box (Tab), as a person moving on would.
        control.press("Escape" if attempt < 2 else "Tab")
        try:
            dropdown.wait_for(state="hidden", timeout=2000)
            break
        except PlaywrightTimeoutError:
            control.focus()
    expect(dropdown).to_be_hidden()


@cache
def _axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


def assert_accessible(page: Page, label: str, known: Iterable[str] = ()) -> None:
    """Run axe-core on the page as it stands and fail on any moderate or worse violation.

    axe-core is vendored under tests/e2e/vendor/ (see `make vendor`) and evaluated through
    the driver, so the page's CSP is not loosened and nothing is fetched from the network.
    ``label`` names the page and state in the failure message. ``known`` lists rule ids of
    violations on a page another change will fix (each call site says which, in a TODO);
    they are tolerated there, and the test fails once one is gone so the entry is removed.
    """
    page.wait_for_load_state()
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    violations = page.evaluate(_RUN_AXE, list(AXE_FAILING_IMPACTS))
    known = set(known)
    fixed = known - {v["id"] for v in violations}
    assert not fixed, f"{label}: {sorted(fixed)} no longer fail here; drop them from known="
    violations = [v for v in violations if v["id"] not in known]
    if violations:
        width = (page.viewport_size or {}).get("width")
        lines = [f"{label} at {width}px ({page.url}) has {len(violations)} accessibility violation(s):"]
        for v in violations:
            lines.append(f"  [{v['impact']}] {v['id']}: {v['help']}")
            lines.extend(f"      {target}" for target in v["targets"])
        raise AssertionError("\n".join(lines))
