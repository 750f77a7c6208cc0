"""UTF-8 only: no encoding libxml2 can detect lets a DTD or parameter entity reach the filesystem (issue 11 §2).

A FIFO shows whether the parser opened a path: opening it for reading blocks until a writer comes, and a writer
opening it with O_NONBLOCK succeeds only while a reader has it open. A watcher thread plays that writer: if it ever
gets in, the path was opened (and its close lets a parser on today's main go on instead of hanging).
A regular file shows it through /proc/self/io: reading an 8 MiB DTD would add 8 MiB to this process's `rchar`.
"""

import errno
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509

import emrex_elmo
from emrex_elmo import TransportError, XmlSecurityError, XmlSyntaxError, parse_xml, transport
from ncp_testkit import signing_key

ELMO = '<elmo xmlns="https://github.com/emrex-eu/elmo-schemas/tree/v1"><generatedDate>x</generatedDate></elmo>'


def _ucs4(order: tuple[int, int, int, int]) -> Callable[[str], bytes]:
    def encode(text: str) -> bytes:
        be = text.encode("utf-32-be")
        return b"".join(bytes(be[i + j] for j in order) for i in range(0, len(be), 4))

    return encode


def _codec(name: str) -> Callable[[str], bytes]:
    return lambda text: text.encode(name)


# Every input encoding libxml2 detects by itself: byte order marks, the first four bytes of `<?xm` (UTF-16 and
# UCS-4 in all four byte orders, EBCDIC), and the `encoding=` declaration of an ASCII-compatible document.
DETECTED: dict[str, tuple[str, Callable[[str], bytes]]] = {
    "utf-16-bom-le": ("UTF-16", _codec("utf-16")),  # CPython writes the native (little-endian) BOM
    "utf-16le-bom": ("UTF-16", lambda t: b"\xff\xfe" + t.encode("utf-16-le")),
    "utf-16be-bom": ("UTF-16", lambda t: b"\xfe\xff" + t.encode("utf-16-be")),
    "utf-16le-no-bom": ("UTF-16LE", _codec("utf-16-le")),
    "utf-16be-no-bom": ("UTF-16BE", _codec("utf-16-be")),
    "utf-32le-bom": ("UTF-32", lambda t: b"\xff\xfe\x00\x00" + t.encode("utf-32-le")),
    "utf-32be-bom": ("UTF-32", lambda t: b"\x00\x00\xfe\xff" + t.encode("utf-32-be")),
    "utf-32le-no-bom": ("UTF-32LE", _codec("utf-32-le")),
    "utf-32be-no-bom": ("UTF-32BE", _codec("utf-32-be")),
    "ucs4-2143": ("ISO-10646-UCS-4", _ucs4((1, 0, 3, 2))),
    "ucs4-3412": ("ISO-10646-UCS-4", _ucs4((2, 3, 0, 1))),
    "ebcdic-cp037": ("IBM037", _codec("cp037")),
    "ebcdic-cp500": ("IBM500", _codec("cp500")),
    **{
        f"declared-{name.lower()}": (name, _codec("latin-1"))
        for name in (
            "ISO-8859-1", "latin1", "ISO-8859-2", "ISO-8859-5", "ISO-8859-7", "ISO-8859-15", "windows-1252",
            "US-ASCII", "ASCII", "UTF-16", "UTF-32", "UCS-2", "UCS-4", "UTF-7", "Shift_JIS", "EUC-JP", "KOI8-R",
            "GB2312", "HTML", "",
        )
    },
}


def _document(attack: str, target: str, encoding: str) -> str:
    decl = f'<?xml version="1.0" encoding="{encoding}"?>'
    if attack == "external-dtd":
        return f'{decl}<!DOCTYPE elmo SYSTEM "{target}">{ELMO}'
    if attack == "parameter-entity":
        return f'{decl}<!DOCTYPE elmo [<!ENTITY % p SYSTEM "{target}"> %p;]>{ELMO}'
    return f'{decl}<!DOCTYPE elmo [<!ENTITY e SYSTEM "{target}">]>{ELMO.replace(">x<", ">&e;<")}'


ATTACKS = ("external-dtd", "parameter-entity", "external-entity")


@pytest.fixture(scope="module")
def cert() -> x509.Certificate:
    return signing_key().certificate


def _entry_points(cert: x509.Certificate) -> dict[str, Callable[[bytes], object]]:
    return {
        "parse_xml": parse_xml,
        "from_xml": emrex_elmo.from_xml,
        "verify": lambda data: emrex_elmo.verify(data, [cert]),
        "validate": emrex_elmo.validate,
        "schema_issues": emrex_elmo.schema_issues,
        "wire-decode": lambda data: parse_xml(transport.decode(transport.encode(data))),
    }


ENTRY_POINTS = ("parse_xml", "from_xml", "verify", "validate", "schema_issues", "wire-decode")


class FifoWatch:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.opened = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO:  # ENXIO: no reader, nobody opened it (yet)
                    raise
                time.sleep(0.001)
                continue
            self.opened = True
            os.close(fd)  # EOF for the reader: a parser that opened it goes on instead of hanging

    def __enter__(self) -> "FifoWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "elmo.dtd"
    os.mkfifo(path)
    return path


def _run_with_timeout(fn: Callable[[], object], seconds: float = 5) -> BaseException | None:
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            fn()
            outcome.append(None)
        except BaseException as exc:  # handed to the test thread
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"the parse hung for {seconds} s (it opened a FIFO)")
    return outcome[0]


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("attack", ATTACKS)
@pytest.mark.parametrize("encoding", DETECTED)
def test_no_detected_encoding_lets_a_dtd_or_entity_open_a_fifo(
    encoding: str, attack: str, entry: str, fifo: Path, cert: x509.Certificate
) -> None:
    declared, encode = DETECTED[encoding]
    data = encode(_document(attack, str(fifo), declared))
    started = time.monotonic()
    with FifoWatch(fifo) as watch:
        error = _run_with_timeout(lambda: _entry_points(cert)[entry](data))
    assert not watch.opened, "the parser opened the FIFO named by the document"
    assert isinstance(error, XmlSecurityError | XmlSyntaxError | TransportError), repr(error)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("target_kind", ["path", "file-url"])
@pytest.mark.parametrize("attack", ATTACKS)
@pytest.mark.parametrize("encoding", DETECTED)
def test_a_regular_file_named_by_the_document_is_never_read(
    encoding: str, attack: str, target_kind: str, tmp_path: Path
) -> None:
    dtd = tmp_path / "big.dtd"
    dtd.write_bytes(b"<!-- " + b"x" * (8 * 1024 * 1024) + b" -->\n")
    target = dtd.as_uri() if target_kind == "file-url" else str(dtd)
    declared, encode = DETECTED[encoding]
    data = encode(_document(attack, target, declared))
    before = _bytes_read()
    with pytest.raises((XmlSecurityError, XmlSyntaxError)) as err:
        parse_xml(data)
    assert _bytes_read() - before < 1024 * 1024, "the parser read the file named by the document"
    # No file-existence oracle: a path that does not exist gets the very same answer.
    missing = encode(_document(attack, target.replace("big.dtd", "missing.dtd"), declared))
    with pytest.raises(type(err.value)) as err_missing:
        parse_xml(missing)
    assert err_missing.value.message == err.value.message


def _bytes_read() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


@pytest.mark.parametrize("attack", ATTACKS[:2])
def test_the_parser_itself_refuses_every_external_load(attack: str, fifo: Path) -> None:
    # Defence in depth: even a document that got past the checks before parsing cannot make libxml2 open a path.
    from lxml import etree

    from emrex_elmo._parser import _parser

    data = _document(attack, str(fifo), "UTF-8").encode()
    with FifoWatch(fifo) as watch:
        error = _run_with_timeout(lambda: etree.fromstring(data, _parser()))
    assert not watch.opened
    assert isinstance(error, XmlSecurityError), repr(error)
    assert "external" in str(error)
