"""QR codes in images, decoded offline by zxing-cpp (via Pillow). Bounded: images larger than
``MAX_IMAGE_BYTES`` or ``MAX_PIXELS`` are not decoded. Returns None when the libraries are missing."""

from __future__ import annotations

import io
import warnings

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 16_000_000


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
            if w * h > MAX_PIXELS or w <= 0 or h <= 0:
                return None
            img.load()
            gray = img.convert("L")
        results = zxingcpp.read_barcodes(gray)
    except Exception:
        return None
    return [r.text[:4096] for r in results[:10] if r.text and r.format == zxingcpp.BarcodeFormat.QRCode]
