"""Cover images: checked by content (not name), at most 5 MB, re-encoded so that EXIF and GPS
data are dropped, and stored under a random name in the instance folder (not static/)."""

from __future__ import annotations

import io
import os
import secrets

from flask import current_app
from PIL import Image, UnidentifiedImageError

from portal.i18n import _
from portal.rules import RuleError

MAX_BYTES = 5 * 1024 * 1024
FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789.")


def _refused(code: str) -> RuleError:
    message = (_("The picture is larger than 5 MB.") if code == "too_large"
               else _("The picture must be a JPEG, PNG or WebP image."))
    return RuleError(code, message, 413 if code == "too_large" else 415, {"cover": message})


def folder() -> str:
    path = os.path.join(current_app.instance_path, "uploads")
    os.makedirs(path, exist_ok=True)
    return path


def store_image(data: bytes) -> str:
    """Check and re-encode an uploaded image (slow: before any unit of work); return its new
    file name.  Raises ``RuleError`` (field ``cover``) for what cannot be used."""
    if len(data) > MAX_BYTES:
        raise _refused("too_large")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            probe.verify()  # structure check, before decoding pixels
        with Image.open(io.BytesIO(data)) as image:
            if kind not in FORMATS:
                raise _refused("bad_type")
            if image.width * image.height > 40_000_000:
                raise _refused("too_large")
            image.load()
            clean = image.convert("RGB") if kind == "JPEG" else image.copy()
    except RuleError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise _refused("bad_type") from None
    clean.info.pop("exif", None)
    out = io.BytesIO()
    # Saving a new image from pixels writes no EXIF/GPS/XMP blocks.
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
