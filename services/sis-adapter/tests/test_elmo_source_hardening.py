"""An ELMO upstream cannot make the adapter open local files, and its values are read whole (issue 11 §1, §2)."""

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emrex_elmo import to_xml
from ncp_sis_adapter.adapters.elmo_source import ElmoSource
from ncp_sis_adapter.config import ElmoAdapterConfig
from ncp_sis_adapter.domain.mapping import build_issuer
from ncp_sis_adapter.domain.sources import SourceBadData
from ncp_testkit import learner, make_elmo, serve_on_loopback

ISSUER = build_issuer(schac="register.example.fi", titles={"en": "Study register"},
                      url="https://register.example.fi/", country="FI")


@pytest.fixture(scope="module")
def fifo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fifo") / "elmo.dtd"
    os.mkfifo(path)
    return path


@pytest.fixture(scope="module")
def register(fifo: Path) -> Iterator[str]:
    async def upstream(request: Request) -> Response:
        who = request.query_params.get("oid")
        if who == "utf16-dtd":
            doc = f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE elmo SYSTEM "{fifo}"><elmo/>'
            return Response(doc.encode("utf-16"), media_type="application/xml")
        if who == "utf32-pe":
            doc = f'<?xml version="1.0" encoding="UTF-32"?><!DOCTYPE elmo [<!ENTITY % p SYSTEM "{fifo}"> %p;]><elmo/>'
            return Response(b"\xff\xfe\x00\x00" + doc.encode("utf-32-le"), media_type="application/xml")
        xml = to_xml(make_elmo(student=learner("Maria Anna", "Example")))
        return Response(xml.replace(b"<givenNames>Maria", b"<givenNames>Maria<!---->"), media_type="application/xml")

    with serve_on_loopback(Starlette(routes=[Route("/elmo", upstream)]), lifespan="off") as url:
        yield url


def source(register: str) -> ElmoSource:
    config = ElmoAdapterConfig.model_validate(
        {"kind": "elmo", "url": f"{register}/elmo", "lookup": {"learner_id": "oid"}, "max_bytes": 100_000}
    )
    return ElmoSource(config, ISSUER, timeout=5.0)


@pytest.mark.parametrize("who", ["utf16-dtd", "utf32-pe"])
async def test_a_document_in_another_encoding_never_opens_the_path_it_names(register: str, fifo: Path, who: str):
    opened, stop = threading.Event(), threading.Event()

    def watch() -> None:
        while not stop.is_set():
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                time.sleep(0.001)
                continue
            opened.set()
            os.close(fd)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    src = source(register)
    try:
        started = time.monotonic()
        with pytest.raises(SourceBadData, match="xml_forbidden"):
            await src.lookup("learner_id", who)
        assert time.monotonic() - started < 3
    finally:
        await src.aclose()
        stop.set()
        watcher.join(5)
    assert not opened.is_set()


async def test_a_comment_does_not_cut_a_name(register: str):
    src = source(register)
    answer = await src.lookup("learner_id", "commented")
    await src.aclose()
    assert answer is not None
    assert answer.learner.given_names == "Maria Anna"
