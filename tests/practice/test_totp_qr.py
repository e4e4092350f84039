"""The set-up QR code is an image a browser can show and a phone can scan (issue 12)."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET

import pytest
import segno
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db

SVG_NS = "http://www.w3.org/2000/svg"
QR_IMG = re.compile(r'<img src="data:image/svg\+xml;base64,([^"]+)" alt="QR code for your authenticator app"')


def dark_modules(path_data: str, border: int) -> set[tuple[int, int]]:
    """The (row, column) of each dark module the SVG path draws as horizontal strokes."""
    x = y = 0.0
    dark: set[tuple[int, int]] = set()
    for command, args in re.findall(r"([MmHh])([^MmHh]*)", path_data):
        numbers = [float(n) for n in args.replace(",", " ").split()]
        if command == "M":
            x, y = numbers
        elif command == "m":
            x, y = x + numbers[0], y + numbers[1]
        else:
            end = numbers[0] if command == "H" else x + numbers[0]
            row = int(y) - border
            dark.update((row, int(col) - border) for col in range(int(x), int(end)))
            x = end
    return dark


def test_the_set_up_page_shows_a_standalone_svg_of_the_otpauth_uri(tenant):
    client = signed_in(tenant.owner)
    client.post(url(tenant.practice, "security_totp_start"))
    device = TOTPDevice.objects.get(user=tenant.owner, confirmed=False)
    assert device.config_url.startswith("otpauth://totp/")

    page = client.get(url(tenant.practice, "security")).content.decode()
    match = QR_IMG.search(page)
    assert match, "the set-up page has no QR image"
    svg = ET.fromstring(base64.b64decode(match.group(1)))

    # A standalone SVG: namespaced (else an <img> draws nothing), sized and scalable.
    assert svg.tag == f"{{{SVG_NS}}}svg"
    assert int(svg.get("width", "0")) > 0 and svg.get("width") == svg.get("height")
    assert svg.get("viewBox") == f"0 0 {svg.get('width')} {svg.get('width')}"

    # The modules it draws are the QR code of the device's otpauth URI, module for module.
    paths = svg.findall(f"{{{SVG_NS}}}path")
    assert len(paths) == 1
    expected = segno.make(device.config_url, error="m")
    drawn = dark_modules(paths[0].get("d", ""), border=4)
    wanted = {(r, c) for r, row in enumerate(expected.matrix) for c, dark in enumerate(row) if dark}
    assert len(wanted) > 300
    assert drawn == wanted
