"""Helpers the browser tests share."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.helpers import PASSWORD


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Sign in through the form, as a person would."""
    page.goto("/signin/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def pick(page: Page, label: str, typed: str, option: str) -> None:
    """Choose ``option`` in the type-ahead picker labelled ``label`` by typing ``typed``."""
    control = page.get_by_role("combobox", name=label, exact=True)
    control.click()
    control.press_sequentially(typed)
    dropdown = page.locator("#" + (control.get_attribute("aria-controls") or ""))
    dropdown.get_by_role("option", name=option).first.click()
    page.keyboard.press("Escape")
