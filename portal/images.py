"""The one door to Pillow: pictures people upload, checked and re-encoded.

A picture is checked by its content, not its name (JPEG, PNG or WebP), at most 5 MB and a
pixel budget (``SCHOOLS_UPLOAD_MAX_PIXELS``, 12 Mpx by default) read from the header before
any pixel is decoded; its EXIF orientation is applied and it is re-encoded from its pixels
only (no EXIF, GPS, XMP, ICC profile or comment survives).  All of this is slow pure work:
callers do it before their unit of work.

* :func:`open_upload` checks the bytes and returns the upright, clean image;
* :func:`encode` re-encodes an image in a format (bytes);
* :func:`variants` makes the responsive sizes (never upscaled), each as WebP and JPEG;
* :func:`random_stem` makes an unguessable file name stem.

Refusals are ``RuleError`` (``too_large`` / ``too_many_pixels`` 413, ``bad_type`` 415) naming
the form field given (``field``), with a translated message.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError

from portal.i18n import _
from portal.rules import RuleError

MAX_BYTES = 5 * 1024 * 1024
FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
MAX_PIXELS = 12_000_000  # the default of SCHOOLS_UPLOAD_MAX_PIXELS
KEPT_INFO = ("transparency",)  # what a re-encoded picture keeps of the original's info
WIDTHS = (480, 1200)
QUALITY = 88


@dataclass
class Upload:
    image: Image.Image  # upright, decoded, without metadata
    kind: str  # "JPEG", "PNG" or "WEBP": what the content is


@dataclass
class Variant:
    width: int
    height: int
    webp: bytes
    jpeg: bytes


def max_pixels() -> int:
    return int(current_app.config.get("SCHOOLS_UPLOAD_MAX_PIXELS", MAX_PIXELS))


def refused(code: str, field: str = "cover") -> RuleError:
    if code == "too_many_pixels":
        megapixels = format(max_pixels() / 1_000_000, "g")
        message = _("The picture has more than %(n)s megapixels. Please make it smaller and "
                    "try again.", n=megapixels)
    elif code == "too_large":
        message = _("The picture is larger than 5 MB.")
    else:
        message = _("The picture must be a JPEG, PNG or WebP image.")
    return RuleError(code, message, 413 if code.startswith("too_") else 415, {field: message})


def open_upload(data: bytes, field: str = "cover") -> Upload:
    """Check an uploaded picture and decode it, upright and without metadata."""
    if len(data) > MAX_BYTES:
        raise refused("too_large", field)
    budget = max_pixels()
    # Pillow's own guard, at the same budget: it warns above it and refuses at twice it, when
    # the header is read.  Ours refuses above it, also from the header (``size``).
    Image.MAX_IMAGE_PIXELS = budget
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            if probe.width * probe.height > budget:
                raise refused("too_many_pixels", field)
            probe.verify()  # structure check, before decoding pixels
        with Image.open(io.BytesIO(data)) as image:
            if kind not in FORMATS:
                raise refused("bad_type", field)
            image.load()
            upright = ImageOps.exif_transpose(image)  # EXIF goes: apply its rotation first
            clean = upright.convert("RGB") if kind == "JPEG" else upright.copy()
    except RuleError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise refused("too_many_pixels", field) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise refused("bad_type", field) from None
    # The new file is written from pixels and nothing else: Pillow would copy a JPEG comment
    # (COM), an ICC profile or XMP from ``info`` into it.
    clean.info = {k: v for k, v in clean.info.items() if k in KEPT_INFO}
    return Upload(clean, kind)


def encode(image: Image.Image, kind: str) -> bytes:
    """The image re-encoded as ``kind`` ("JPEG", "PNG", "WEBP") from its pixels only."""
    image.info = {k: v for k, v in image.info.items() if k in KEPT_INFO}
    if kind == "JPEG":
        image = _flattened(image)
    out = io.BytesIO()
    save_kwargs = {"quality": QUALITY} if kind in ("JPEG", "WEBP") else {}
    image.save(out, format=kind, **save_kwargs)
    return out.getvalue()


def _flattened(image: Image.Image) -> Image.Image:
    """RGB for JPEG: transparent parts laid on white (not black)."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return image if image.mode == "RGB" else image.convert("RGB")


def _for_webp(image: Image.Image) -> Image.Image:
    if image.mode in ("RGB", "RGBA"):
        return image
    has_alpha = image.mode in ("LA", "PA") or "transparency" in image.info
    return image.convert("RGBA" if has_alpha else "RGB")


def sizes(width: int, widths=WIDTHS) -> list[int]:
    """The widths made for a picture ``width`` wide: those it reaches, never larger; a picture
    narrower than the smallest gets one size, its own width."""
    fitting = [w for w in sorted(widths) if w <= width]
    return fitting or [width]


def variants(image: Image.Image, widths=WIDTHS) -> list[Variant]:
    """Resized copies of ``image`` (never upscaled), each as WebP and JPEG, smallest first."""
    base = _for_webp(image)  # RGB or RGBA: resized smoothly, alpha kept for WebP
    out = []
    for width in sizes(base.width, widths):
        height = max(1, round(base.height * width / base.width))
        copy = base if width == base.width else base.resize((width, height),
                                                             Image.Resampling.LANCZOS)
        out.append(Variant(width, copy.height, encode(copy.copy(), "WEBP"),
                           encode(copy.copy(), "JPEG")))
    return out


def random_stem() -> str:
    return secrets.token_hex(16)
