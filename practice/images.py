"""An uploaded logo made safe to keep and to print: checked by its content (never by its
name or the browser's content type), refused past 2 MB, shrunk to fit an invoice's
letterhead, and re-encoded as a PNG so nothing of the uploaded file but its pixels is
stored (no metadata, no trailing payload)."""

from __future__ import annotations

import io
from typing import IO

from django.core.exceptions import ValidationError
from PIL import Image, ImageOps, UnidentifiedImageError

LOGO_MAX_BYTES = 2 * 1024 * 1024
# A header logo never needs more; twice the printed size keeps it sharp on paper.
LOGO_MAX_SIZE = (600, 240)
# Refuse a "decompression bomb" (a small file that decodes to a huge bitmap) before
# decoding: 50 megapixels is well past any real logo.
LOGO_MAX_PIXELS = 50_000_000
LOGO_FORMATS = ("PNG", "JPEG")

LOGO_TOO_LARGE = "The logo must be at most 2 MB. The previous logo is kept."
LOGO_NOT_AN_IMAGE = "The logo must be a PNG or JPEG image. The previous logo is kept."


def logo_normalise(upload: IO[bytes], *, size: int | None = None) -> bytes:
    """The PNG bytes to store for an uploaded logo, or a ValidationError saying why not.

    ``size`` is the upload's size when known (Django's UploadedFile.size); the stream is
    read at most one byte past the limit either way.
    """
    if size is not None and size > LOGO_MAX_BYTES:
        raise ValidationError(LOGO_TOO_LARGE, code="logo_too_large")
    data = upload.read(LOGO_MAX_BYTES + 1)
    if len(data) > LOGO_MAX_BYTES:
        raise ValidationError(LOGO_TOO_LARGE, code="logo_too_large")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in LOGO_FORMATS:
                raise ValidationError(LOGO_NOT_AN_IMAGE, code="logo_format")
            width, height = probe.size
            if width * height > LOGO_MAX_PIXELS:
                raise ValidationError(LOGO_NOT_AN_IMAGE, code="logo_format")
            # verify() walks the whole file (checksums, truncation) without decoding it.
            probe.verify()
        # After verify() the image must be opened again to be decoded.
        with Image.open(io.BytesIO(data)) as opened:
            opened.load()
            upright = ImageOps.exif_transpose(opened)
            pixels = upright.convert("RGBA" if _has_alpha(upright) else "RGB")
            pixels.thumbnail(LOGO_MAX_SIZE, Image.Resampling.LANCZOS)
            out = io.BytesIO()
            pixels.save(out, format="PNG", optimize=True)
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        # Pillow reports a truncated or malformed file through any of these.
        raise ValidationError(LOGO_NOT_AN_IMAGE, code="logo_format") from None
    return out.getvalue()


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
