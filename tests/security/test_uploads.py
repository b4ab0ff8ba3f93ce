"""Cover pictures (issue 12, item 8): above the pixel budget they are refused from the header,
before any pixel is decoded; what is stored carries no metadata (JPEG comments, EXIF, XMP,
ICC profiles, PNG text chunks)."""

from __future__ import annotations

import io
import os
import struct

import pytest
from PIL import Image, ImageCms, ImageFile

from portal.rules import RuleError

SECRET = b"secret-4f2a"


def _jpeg(size=(64, 48), **metadata) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "green").save(out, "JPEG", **metadata)
    return out.getvalue()


def _png(size, mode="RGB", **metadata) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, "PNG", **metadata)
    return out.getvalue()


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail if any picture's pixels are decoded."""
    def load(self):
        raise AssertionError("pixels were decoded")
    monkeypatch.setattr(ImageFile.ImageFile, "load", load)


def test_a_16_megapixel_picture_is_refused_before_it_is_decoded(ctx, no_decoding):
    from portal.schools import uploads

    data = _jpeg((4000, 4000))
    assert len(data) < uploads.MAX_BYTES  # small on disk: only the pixel count is too big
    with pytest.raises(RuleError) as refused:
        uploads.store_image(data)
    assert refused.value.code == "too_many_pixels" and refused.value.status == 413
    assert "12" in refused.value.fields["cover"]
    assert os.listdir(uploads.folder()) == []


def test_the_refusal_is_translated(ctx):
    from portal.schools import uploads

    with ctx.test_request_context("/?lang=en"):
        with pytest.raises(RuleError) as refused:
            uploads.store_image(_jpeg((4000, 4000)))
    assert refused.value.message == ("The picture has more than 12 megapixels. "
                                     "Please make it smaller and try again.")


def test_far_beyond_the_budget_pillow_refuses_at_the_header_and_so_do_we(make_app):
    """Twice the budget and more, Pillow itself raises DecompressionBombError on open."""
    from portal.schools import uploads

    app = make_app(SCHOOLS_UPLOAD_MAX_PIXELS=1_000_000)
    with app.app_context():
        with pytest.raises(RuleError) as refused:
            uploads.store_image(_png((1500, 1500), mode="1"))
        assert refused.value.code == "too_many_pixels"



def test_the_budget_is_configurable(make_app):
    from portal.schools import uploads

    app = make_app(SCHOOLS_UPLOAD_MAX_PIXELS=20_000_000)
    with app.app_context():
        name = uploads.store_image(_jpeg((4000, 4000)))
        with Image.open(uploads.path_of(name)) as stored:
            assert stored.size == (4000, 4000)


def _jpeg_segments(data: bytes) -> list[int]:
    """The markers of a JPEG file's segments up to the image data."""
    assert data[:2] == b"\xff\xd8"
    markers, at = [], 2
    while at < len(data):
        assert data[at] == 0xFF
        marker = data[at + 1]
        markers.append(marker)
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        (length,) = struct.unpack(">H", data[at + 2:at + 4])
        at += 2 + length
    return markers


def _exif() -> bytes:
    exif = Image.Exif()
    exif[0x010E] = SECRET.decode()  # ImageDescription
    exif[0x013B] = "Artist " + SECRET.decode()  # Artist
    return exif.tobytes()


def _icc() -> bytes:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    return profile.tobytes()


def test_a_jpeg_loses_its_comment_exif_xmp_and_icc_profile(ctx):
    from portal.schools import uploads

    data = _jpeg(comment=b"COM " + SECRET, exif=_exif(), icc_profile=_icc(),
                 xmp=b"<x:xmpmeta>" + SECRET + b"</x:xmpmeta>")
    original = _jpeg_segments(data)
    assert {0xFE, 0xE1, 0xE2} <= set(original)  # COM, APP1 (EXIF, XMP), APP2 (ICC)
    name = uploads.store_image(data)
    with open(uploads.path_of(name), "rb") as fh:
        stored = fh.read()
    markers = _jpeg_segments(stored)
    assert 0xFE not in markers, "JPEG comment kept"
    assert not set(markers) & set(range(0xE1, 0xF0)), [hex(m) for m in markers]
    assert SECRET not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert not {"comment", "exif", "xmp", "icc_profile"} & set(image.info)
        assert image.size == (64, 48)


def test_a_png_loses_its_text_chunks_exif_and_icc_profile(ctx):
    from PIL import PngImagePlugin

    from portal.schools import uploads

    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", SECRET.decode())
    text.add_itxt("XML:com.adobe.xmp", SECRET.decode())
    data = _png((32, 32), pnginfo=text, exif=_exif(), icc_profile=_icc())
    name = uploads.store_image(data)
    with open(uploads.path_of(name), "rb") as fh:
        stored = fh.read()
    for chunk in (b"tEXt", b"iTXt", b"zTXt", b"eXIf", b"iCCP"):
        assert chunk not in stored, chunk
    assert SECRET not in stored


def test_a_transparent_png_stays_transparent(ctx):
    from portal.schools import uploads

    out = io.BytesIO()
    Image.new("P", (8, 8), 0).save(out, "PNG", transparency=0)
    name = uploads.store_image(out.getvalue())
    with Image.open(uploads.path_of(name)) as stored:
        assert stored.info.get("transparency") == 0


def test_a_rotated_phone_photo_is_stored_upright(ctx):
    from portal.schools import uploads

    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    name = uploads.store_image(_jpeg((60, 40), exif=exif.tobytes()))
    with Image.open(uploads.path_of(name)) as stored:
        assert stored.size == (40, 60) and "exif" not in stored.info
