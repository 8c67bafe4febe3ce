"""QR codes in images, decoded offline by zxing-cpp (via Pillow). Bounded: images larger than
``MAX_IMAGE_BYTES`` or ``MAX_PIXELS`` are not decoded, large ones are scaled down to
``DECODE_SIDE`` pixels first (a QR code meant for a phone camera survives that), tiny ones are
skipped. Returns None when the libraries are missing or the image cannot be read."""

from __future__ import annotations

import io
import warnings

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
DECODE_SIDE = 1000
MIN_SIDE = 40


def decode_qr(data: bytes) -> list[str] | None:
    """The texts of the QR codes found in an image ([] when none), or None when not decodable here."""
    if not data or len(data) > MAX_IMAGE_BYTES:
        return None
    try:
        import zxingcpp
        from PIL import Image
    except ImportError:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            if w * h > MAX_PIXELS or min(w, h) < MIN_SIDE:
                return [] if min(w, h) < MIN_SIDE else None
            if img.format == "JPEG":
                img.draft("L", (DECODE_SIDE, DECODE_SIDE))  # decode at a reduced scale: much cheaper
            img.load()
            gray = img.convert("L")
            if max(gray.size) > DECODE_SIDE:
                gray.thumbnail((DECODE_SIDE, DECODE_SIDE))
        # Only QR codes are reported: asking for that one format spares the 1-D and other 2-D
        # readers (an order of magnitude faster on a photo-sized image).
        results = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode))
    except Exception:
        return None
    return [r.text[:4096] for r in results[:10] if r.text and r.format == zxingcpp.BarcodeFormat.QRCode]
