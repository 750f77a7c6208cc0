"""The `elmo` form value: base64(gzip(XML)), strict decoding within limits."""

import base64
import gzip
import re
import time
import tracemalloc
import zlib
from pathlib import Path

import pytest

from emrex_elmo import TransportError, transport

STANDARD_B64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")


@pytest.fixture(scope="module")
def wire_sample(samples: Path) -> str:
    return (samples / "dk-emrex__elmo-tomcat-signed-zipped-base64.txt").read_text(encoding="ascii")


def test_reference_wire_value_decodes_to_exactly_the_signed_file(wire_sample: str, dk_signed: bytes) -> None:
    assert transport.decode(wire_sample) == dk_signed
    assert transport.decode(wire_sample.encode("ascii")) == dk_signed


@pytest.mark.parametrize(
    "relative",
    ["samples/dk-emrex__elmo-tomcat-signed-zipped-base64.txt", "samples-smp/fi-smp__elmo_vastaus_base64_gzipped.txt"],
)
def test_reference_wire_values_are_the_shape_we_emit(reference: Path, relative: str) -> None:
    value = (reference / relative).read_text(encoding="ascii").strip()
    assert "\n" not in value
    assert STANDARD_B64.match(value)
    assert len(value) % 4 == 0
    xml = transport.decode(value)
    assert xml.startswith(b"<?xml")
    assert b"Signature" in xml
    # Re-encoding gives a value that decodes to the same bytes (gzip headers may differ).
    assert transport.decode(transport.encode(xml)) == xml


def test_encode_is_one_padded_line_in_the_standard_alphabet(dk_signed: bytes) -> None:
    value = transport.encode(dk_signed)
    assert isinstance(value, str)
    assert "\n" not in value
    assert "\r" not in value
    assert STANDARD_B64.match(value)
    assert len(value) % 4 == 0
    packed = base64.b64decode(value, validate=True)
    assert packed[:2] == b"\x1f\x8b"  # gzip, not zlib or raw deflate
    assert gzip.decompress(packed) == dk_signed  # what a Java GZIPInputStream reads


def test_encode_decode_round_trip_is_byte_exact_and_reproducible(dk_signed: bytes) -> None:
    assert transport.decode(transport.encode(dk_signed)) == dk_signed
    assert transport.encode(dk_signed) == transport.encode(dk_signed)


def test_padding_is_kept_for_every_length() -> None:
    for size in range(1, 8):
        value = transport.encode(b"<a/>" + b" " * size)
        assert len(value) % 4 == 0
        assert transport.decode(value) == b"<a/>" + b" " * size


def test_surrounding_whitespace_is_tolerated(wire_sample: str, dk_signed: bytes) -> None:
    assert transport.decode(f"  {wire_sample.strip()}\r\n") == dk_signed


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("H4sIAAAA", "gzip"),  # header cut short
        ("H4sIAAAAAAAA/", "base64"),  # one character missing: bad padding
        ("not base64 at all!", "base64"),
        ("PGVsbW8vPg", "base64"),  # "<elmo/>" without padding
        ("PGVsbW8vPg==", "gzip"),  # "<elmo/>" not compressed
        ("äöü", "base64"),
    ],
)
def test_malformed_values_are_refused_with_a_clear_error(value: str, message: str) -> None:
    with pytest.raises(TransportError, match=message) as err:
        transport.decode(value)
    assert err.value.code == "bad_wire_value"


def test_truncated_base64_is_refused(wire_sample: str) -> None:
    with pytest.raises(TransportError, match="base64"):
        transport.decode(wire_sample.strip()[:-3])


def test_mime_wrapped_base64_is_refused_as_java_does(dk_signed: bytes) -> None:
    value = transport.encode(dk_signed)
    wrapped = "\n".join(value[i : i + 76] for i in range(0, len(value), 76))
    with pytest.raises(TransportError, match="base64"):
        transport.decode(wrapped)


def test_url_safe_alphabet_is_refused() -> None:
    packed = gzip.compress(b"<elmo>" + bytes(range(256)) * 4 + b"</elmo>", mtime=0)
    urlsafe = base64.urlsafe_b64encode(packed).decode("ascii")
    assert "-" in urlsafe or "_" in urlsafe
    with pytest.raises(TransportError, match="base64"):
        transport.decode(urlsafe)


def test_zlib_stream_instead_of_gzip_is_refused(dk_signed: bytes) -> None:
    with pytest.raises(TransportError, match="not gzip"):
        transport.decode(_b64(zlib.compress(dk_signed)))


def test_raw_deflate_is_refused(dk_signed: bytes) -> None:
    deflater = zlib.compressobj(wbits=-15)
    raw = deflater.compress(dk_signed) + deflater.flush()
    with pytest.raises(TransportError, match="not gzip"):
        transport.decode(_b64(raw))


@pytest.mark.parametrize("cut", [1, 4, 8, 20, 200])
def test_truncated_gzip_is_refused(dk_signed: bytes, cut: int) -> None:
    packed = gzip.compress(dk_signed, mtime=0)
    with pytest.raises(TransportError, match=r"truncated|corrupt"):
        transport.decode(_b64(packed[:-cut]))


def test_corrupt_gzip_body_is_refused(dk_signed: bytes) -> None:
    packed = bytearray(gzip.compress(dk_signed, mtime=0))
    packed[30] ^= 0xFF
    with pytest.raises(TransportError, match=r"corrupt|truncated"):
        transport.decode(_b64(bytes(packed)))


def test_wrong_crc_is_refused(dk_signed: bytes) -> None:
    packed = bytearray(gzip.compress(dk_signed, mtime=0))
    packed[-8] ^= 0x01
    with pytest.raises(TransportError, match="corrupt"):
        transport.decode(_b64(bytes(packed)))


def _gzip_of_zeros(total: int) -> bytes:
    # Built in 1 MiB steps so the test itself never holds the inflated bytes.
    deflater = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(1024 * 1024)
    parts = [deflater.compress(chunk) for _ in range(total // len(chunk))]
    return b"".join(parts) + deflater.flush()


@pytest.fixture(scope="module")
def bomb() -> str:
    packed = _gzip_of_zeros(100 * 1024 * 1024)
    assert len(packed) < 200 * 1024  # 100 MiB of zeros packs into ~100 KiB
    return _b64(packed)


def test_gzip_bomb_is_refused_quickly_and_without_inflating_it(bomb: str) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(TransportError, match="inflates beyond"):
            transport.decode(bomb)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The default limit is 32 MiB; decoding stops right after it, far from the 100 MiB inside.
    assert peak < 3 * transport.DEFAULT_MAX_DECOMPRESSED
    assert elapsed < 5


def test_a_small_limit_stops_a_bomb_early(bomb: str) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(TransportError, match="beyond 65536 bytes"):
            transport.decode(bomb, max_bytes=65536)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024


def test_a_value_just_at_the_limit_decodes() -> None:
    data = b"<elmo>" + b"x" * 1000 + b"</elmo>"
    assert transport.decode(transport.encode(data), max_bytes=len(data)) == data
    with pytest.raises(TransportError):
        transport.decode(transport.encode(data), max_bytes=len(data) - 1)


@pytest.mark.parametrize(
    "after",
    [gzip.compress(b"<evil/>", mtime=0), gzip.compress(b"", mtime=0), b"\x00", b"\x00" * 512, b"garbage", b"\x1f\x8b"],
    ids=["second-member", "empty-member", "one-nul", "zero-padding", "garbage", "half-header"],
)
def test_bytes_after_the_gzip_member_are_refused(after: bytes) -> None:
    # Issue 11 §5: one member and nothing after it. Java's GZIPInputStream reads further members, Python's gzip
    # module too, others stop after the first: bytes no signature covers must not be read by anyone.
    packed = gzip.compress(b"<elmo></elmo>", mtime=0)
    assert transport.decode(_b64(packed)) == b"<elmo></elmo>"
    with pytest.raises(TransportError, match="after its gzip data"):
        transport.decode(_b64(packed + after))
