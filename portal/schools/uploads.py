"""Cover images: checked by content (not name), at most 5 MB and a pixel budget
(``SCHOOLS_UPLOAD_MAX_PIXELS``, 12 Mpx by default, checked from the header before any pixel
is decoded), re-encoded from their pixels with no metadata at all (EXIF, GPS, XMP, ICC
profiles, JPEG comments), and stored under a random name in the instance folder (not
static/)."""

from __future__ import annotations

import io
import os
import secrets

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError

from portal.i18n import _
from portal.rules import RuleError

MAX_BYTES = 5 * 1024 * 1024
FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789.")
MAX_PIXELS = 12_000_000  # the default of SCHOOLS_UPLOAD_MAX_PIXELS
KEPT_INFO = ("transparency",)  # what a re-encoded picture keeps of the original's info


def max_pixels() -> int:
    return int(current_app.config.get("SCHOOLS_UPLOAD_MAX_PIXELS", MAX_PIXELS))


def _refused(code: str) -> RuleError:
    if code == "too_many_pixels":
        megapixels = format(max_pixels() / 1_000_000, "g")
        message = _("The picture has more than %(n)s megapixels. Please make it smaller and "
                    "try again.", n=megapixels)
    elif code == "too_large":
        message = _("The picture is larger than 5 MB.")
    else:
        message = _("The picture must be a JPEG, PNG or WebP image.")
    return RuleError(code, message, 413 if code.startswith("too_") else 415, {"cover": message})


def folder() -> str:
    path = os.path.join(current_app.instance_path, "uploads")
    os.makedirs(path, exist_ok=True)
    return path


def store_image(data: bytes) -> str:
    """Check and re-encode an uploaded image (slow: before any unit of work); return its new
    file name.  Raises ``RuleError`` (field ``cover``) for what cannot be used."""
    if len(data) > MAX_BYTES:
        raise _refused("too_large")
    budget = max_pixels()
    # Pillow's own guard, at the same budget: it warns above it and refuses at twice it, when
    # the header is read.  Ours refuses above it, also from the header (``size``).
    Image.MAX_IMAGE_PIXELS = budget
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            if probe.width * probe.height > budget:
                raise _refused("too_many_pixels")
            probe.verify()  # structure check, before decoding pixels
        with Image.open(io.BytesIO(data)) as image:
            if kind not in FORMATS:
                raise _refused("bad_type")
            image.load()
            upright = ImageOps.exif_transpose(image)  # EXIF goes: apply its rotation first
            clean = upright.convert("RGB") if kind == "JPEG" else upright.copy()
    except RuleError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refused("too_many_pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise _refused("bad_type") from None
    # The new file is written from pixels and nothing else: Pillow would copy a JPEG comment
    # (COM), an ICC profile or XMP from ``info`` into it.
    clean.info = {k: v for k, v in clean.info.items() if k in KEPT_INFO}
    out = io.BytesIO()
    save_kwargs = {"quality": 88} if kind in ("JPEG", "WEBP") else {}
    clean.save(out, format=kind, **save_kwargs)
    name = f"{secrets.token_hex(16)}.{FORMATS[kind]}"
    with open(os.path.join(folder(), name), "wb") as fh:
        fh.write(out.getvalue())
    return name


def path_of(name: str) -> str | None:
    if not name or set(name) - NAME_CHARS or name.startswith(".") or name.count(".") != 1:
        return None
    path = os.path.join(folder(), name)
    return path if os.path.isfile(path) else None
