"""Cover images of school posts: checked and re-encoded by ``portal.images`` (by content, at
most 5 MB and ``SCHOOLS_UPLOAD_MAX_PIXELS`` from the header, no metadata at all) and stored
under a random name in the instance folder (not static/)."""

from __future__ import annotations

import os

from flask import current_app

from portal import images

MAX_BYTES = images.MAX_BYTES
FORMATS = images.FORMATS
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789.")
MAX_PIXELS = images.MAX_PIXELS
max_pixels = images.max_pixels


def folder() -> str:
    path = os.path.join(current_app.instance_path, "uploads")
    os.makedirs(path, exist_ok=True)
    return path


def store_image(data: bytes) -> str:
    """Check and re-encode an uploaded image (slow: before any unit of work); return its new
    file name.  Raises ``RuleError`` (field ``cover``) for what cannot be used."""
    upload = images.open_upload(data, field="cover")
    encoded = images.encode(upload.image, upload.kind)
    name = f"{images.random_stem()}.{FORMATS[upload.kind]}"
    with open(os.path.join(folder(), name), "wb") as fh:
        fh.write(encoded)
    return name


def path_of(name: str) -> str | None:
    if not name or set(name) - NAME_CHARS or name.startswith(".") or name.count(".") != 1:
        return None
    path = os.path.join(folder(), name)
    return path if os.path.isfile(path) else None
