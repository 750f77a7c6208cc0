"""The `elmo` form value: base64(gzip(UTF-8 XML)), standard alphabet, padded, on one line."""

import base64
import binascii
import gzip
import zlib

from ._parser import require_utf8
from .errors import ElmoError, TransportError

DEFAULT_MAX_DECOMPRESSED = 32 * 1024 * 1024
_CHUNK = 64 * 1024


def encode(xml: bytes) -> str:
    """Wire value of signed XML bytes; the bytes are not touched (the signature covers them)."""
    # mtime=0 makes the value reproducible for the same document.
    return base64.b64encode(gzip.compress(xml, compresslevel=6, mtime=0)).decode("ascii")


def decode(value: str | bytes, *, max_bytes: int = DEFAULT_MAX_DECOMPRESSED) -> bytes:
    """The XML bytes inside a wire value, strictly.

    Raises:
        TransportError: not strict padded base64 (line breaks inside included), not one gzip member
            (bytes after it included), truncated, more than `max_bytes` once decompressed, or not UTF-8.
    """
    raw = value.encode("ascii", "replace") if isinstance(value, str) else value
    raw = raw.strip()
    if not raw:
        raise TransportError("elmo value is empty")
    try:
        packed = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise TransportError(f"elmo value is not valid base64: {exc}") from None
    if packed[:2] != b"\x1f\x8b":
        raise TransportError("elmo value is not gzip data (no 1f 8b header)")
    xml = _gunzip(packed, max_bytes)
    try:
        # EMREX documents are UTF-8; anything else would make libxml2 switch decoders (issue 11 §2).
        return require_utf8(xml)
    except ElmoError as exc:
        raise TransportError(f"elmo value is not UTF-8 XML: {exc.message}") from None


def _gunzip(packed: bytes, max_bytes: int) -> bytes:
    out = bytearray()
    inflater = zlib.decompressobj(wbits=31)
    data = packed
    try:
        while True:
            room = max_bytes - len(out) + 1
            chunk = inflater.decompress(data, min(room, _CHUNK))
            out += chunk
            if len(out) > max_bytes:
                raise TransportError(f"elmo value inflates beyond {max_bytes} bytes")
            data = inflater.unconsumed_tail
            if inflater.eof or (not data and not chunk):
                break
    except zlib.error as exc:
        raise TransportError(f"elmo value is corrupt gzip data: {exc}") from None
    if not inflater.eof:
        raise TransportError("elmo value is truncated gzip data")
    # One member, nothing after it: a second member or trailing bytes would be data no signature covers that
    # another decoder might read (or not).
    if inflater.unused_data:
        raise TransportError(f"elmo value has {len(inflater.unused_data)} bytes after its gzip data")
    return bytes(out)
