"""Browser tests: Playwright (sync API) drives Debian's Chromium against pytest-django's
live server.

No browser is downloaded: Playwright launches ``/usr/bin/chromium`` (or ``CHROMIUM_PATH``).
When it is missing the tests fail with the command that installs it; they are never
skipped. A failing browser test leaves a full-page screenshot in ``.run/test-artifacts/``,
the folder .ci/run prints.
"""

from __future__ import annotations

import os
import re
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an asyncio event loop in this thread, and Django refuses ORM
# calls from a thread with a running loop. The ORM calls here (fixtures building rows) are
# ordinary synchronous code, so the guard only gets in the way.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    ViewportSize,
    sync_playwright,
)

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / ".run" / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--no-first-run",
]
DESKTOP: ViewportSize = {"width": 1366, "height": 900}


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}. Browser tests are never skipped: install it with "
            "`bash scripts/system-deps.sh` (or `sudo apt-get install -y chromium`), "
            "or set CHROMIUM_PATH.",
            pytrace=False,
        )
    # Screenshots from an earlier run would pass for this run's failures.
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    args = list(CHROMIUM_ARGS)
    if os.geteuid() == 0:
        # Chromium's sandbox refuses to start as root.
        args.append("--no-sandbox")
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser, live_server) -> Iterator[Page]:  # type: ignore[no-untyped-def]
    """A fresh browser context (own cookies) per test, with relative URLs on the live server."""
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    """Console errors, uncaught exceptions and CSP violations the page reports from now on."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"console: {message.text} ({message.location.get('url', '')})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    # Chromium also reports each CSP violation on the console; the event listener makes
    # it explicit (init scripts are injected by the driver, not subject to the page's CSP).
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => "
        "console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    return errors


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call" and report.failed:
        _save_screenshot(item, report)
    return report


def _save_screenshot(item: pytest.Item, report: pytest.TestReport) -> None:
    # Called before fixture teardown, so the failing test's page is still open.
    page = getattr(item, "funcargs", {}).get("page")
    if page is None or page.is_closed():
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', item.name)}.png"
    try:
        page.screenshot(path=str(path), full_page=True)
    except Exception as exc:  # a screenshot must never hide the test's own failure
        report.sections.append(("screenshot", f"could not save {path}: {exc}"))
    else:
        report.sections.append(("screenshot", str(path)))
