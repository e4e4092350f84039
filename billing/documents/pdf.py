"""Documents to PDF with WeasyPrint, from nothing but local files.

The fonts are vendored beside this module (Liberation Sans, SIL Open Font License, see
fonts/LICENSE) and the only other thing a document loads is the practice's logo from
MEDIA_ROOT. ``LocalFilesFetcher`` refuses every other URL (http, https, data, ftp, a
file elsewhere on disk), so a document never reaches the network, whatever a template or
a practice's settings hold, and never reads a file outside those two folders.

A PDF renders in well under 150 ms once warm: the stylesheet (with its @font-face rules)
is parsed once per thread with a font configuration kept beside it, so fontconfig sets
the vendored fonts up once instead of on every document.
"""

from __future__ import annotations

import mimetypes
import threading
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from .content import Document

FONTS_DIR = Path(__file__).resolve().parent / "fonts"
DOCUMENT_CSS = Path(settings.BASE_DIR) / "static" / "css" / "documents.css"
LOGO_FOLDER = "invoice-logos"
# Only an absolute path resolves against this; it is never fetched.
BASE_URL = FONTS_DIR.as_uri() + "/"


class LocalFileRefused(ValueError):
    """A document asked for something that is not one of its own local files. WeasyPrint
    leaves that resource out (and logs it); it never fetches it."""


def allowed_roots() -> tuple[Path, ...]:
    # Read per call: tests point MEDIA_ROOT at a temporary folder.
    return (FONTS_DIR.resolve(), (Path(settings.MEDIA_ROOT) / LOGO_FOLDER).resolve())


class LocalFilesFetcher(URLFetcher):
    """WeasyPrint's fetcher, narrowed to file:// URLs inside ``allowed_roots()``."""

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise LocalFileRefused(f"Documents load local files only, not {url[:80]!r}")
        path = Path(unquote(parts.path)).resolve()
        if not any(path.is_relative_to(root) for root in allowed_roots()) or not path.is_file():
            raise LocalFileRefused(f"Documents load only their fonts and the practice's logo, not {path}")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), body=path.read_bytes(), headers={"Content-Type": mime})


def stylesheet_text() -> str:
    """The documents' stylesheet for paper: the vendored fonts, then the same rules the
    settings page's preview uses on screen (static/css/documents.css)."""
    faces = "".join(
        f'@font-face {{ font-family: "Practica Sans"; font-weight: {weight}; '
        f'src: url("{(FONTS_DIR / name).as_uri()}"); }}\n'
        for weight, name in ((400, "LiberationSans-Regular.ttf"), (700, "LiberationSans-Bold.ttf"))
    )
    page = "@page { size: A4; margin: 16mm 15mm 18mm; }\n.doc { font-family: 'Practica Sans'; }\n"
    return faces + page + DOCUMENT_CSS.read_text(encoding="utf-8")


class _Renderer(threading.local):
    """A font configuration and the stylesheet parsed with it, one pair per thread
    (WeasyPrint does not promise that either may be shared between threads)."""

    font_config: FontConfiguration | None = None
    stylesheet: CSS | None = None
    fetcher: LocalFilesFetcher | None = None

    def ready(self) -> tuple[FontConfiguration, CSS, LocalFilesFetcher]:
        if self.font_config is None or self.stylesheet is None or self.fetcher is None:
            self.fetcher = LocalFilesFetcher()
            self.font_config = FontConfiguration()
            self.stylesheet = CSS(
                string=stylesheet_text(), base_url=BASE_URL, url_fetcher=self.fetcher, font_config=self.font_config
            )
        return self.font_config, self.stylesheet, self.fetcher


_renderer = _Renderer()


def document_html(document: Document, *, standalone: bool = False) -> str:
    """The document as an HTML page for WeasyPrint. ``standalone`` puts the whole
    stylesheet inside it (what the benchmark's floor renders with nothing else)."""
    return render_to_string(
        "billing/documents/pdf.html",
        {"doc": document, "stylesheet": stylesheet_text() if standalone else ""},
    )


def html_to_pdf(html: str) -> bytes:
    font_config, stylesheet, fetcher = _renderer.ready()
    return HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).write_pdf(
        stylesheets=[stylesheet], font_config=font_config
    )


def document_pdf(document: Document) -> bytes:
    return html_to_pdf(document_html(document))


def page_pdf(template_name: str, context: dict[str, Any]) -> bytes:
    """A whole-page template (a statement, a superbill) rendered to PDF with the documents'
    stylesheet and fonts."""
    return html_to_pdf(render_to_string(template_name, context))
