"""The shared test helpers do what the suites rely on."""

import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

import emrex_elmo
from ncp_runtime import CallerTokens
from ncp_testkit import (
    asgi_client,
    course,
    free_port,
    golden_elmo,
    institution,
    make_elmo,
    reference_dir,
    serve_on_loopback,
    sign_enveloped,
    signing_key,
    write_caller_tokens,
    write_key_files,
)


@pytest.mark.parametrize("elmo", [
    golden_elmo(),
    make_elmo(),
    make_elmo(courses=25),
    make_elmo(courses=[[course("A")], [course("B", course("B1"), kind="Module", ects=None)]],
              institutions=[institution("a.example"), institution("b.example", "B", country="SE")]),
], ids=["golden", "default", "numbered", "two-institutions"])
def test_built_documents_are_schema_valid_and_round_trip(elmo: emrex_elmo.Elmo) -> None:
    xml = emrex_elmo.to_xml(elmo)
    emrex_elmo.validate(xml, "1.7.0")
    assert emrex_elmo.from_xml(xml) == elmo


def test_courses_must_match_institutions() -> None:
    with pytest.raises(ValueError, match="2 course lists for 1 institutions"):
        make_elmo(courses=[[course("A")], [course("B")]])


def test_golden_has_a_failed_course_and_two_reports() -> None:
    elmo = golden_elmo()
    assert [r.issuer.identifiers[0].value for r in elmo.reports] == ["uio.no", "ntnu.no"]
    assert b"<resultLabel>F</resultLabel>" in emrex_elmo.to_xml(elmo)


@pytest.mark.parametrize("key_type", ["rsa", "ec"])
def test_signxml_signature_verifies_with_our_verifier(key_type: str) -> None:
    key = signing_key(key_type=key_type)  # type: ignore[arg-type]
    signed = sign_enveloped(golden_elmo(), key)
    assert emrex_elmo.verify(signed, [key.certificate]).certificate == key.certificate


def test_key_files_hold_key_then_chain(tmp_path: Path) -> None:
    key = signing_key()
    key_path, cert_path = write_key_files(tmp_path / "k", "signing", key, chain=[key.certificate])
    assert key_path.read_bytes() == key.key_pem()
    assert len(emrex_elmo.load_certificates(cert_path.read_bytes())) == 2


def test_caller_tokens_are_what_ncp_runtime_loads(tmp_path: Path) -> None:
    values = write_caller_tokens(tmp_path / "tokens", "gateway", "admin", fixed="f" * 20)
    assert set(values) == {"gateway", "admin", "fixed"}
    tokens = CallerTokens.load(tmp_path / "tokens")
    assert all(tokens.caller_for(token) == caller for caller, token in values.items())


def test_serve_on_loopback_answers_then_stops() -> None:
    async def hello(request: object) -> PlainTextResponse:
        return PlainTextResponse("hello")

    with serve_on_loopback(Starlette(routes=[Route("/", hello)])) as url:
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(url).text == "hello"
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=2)


def test_free_port_is_on_loopback() -> None:
    assert 0 < free_port() < 65536


async def test_asgi_client_runs_the_lifespan() -> None:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, str]]:
        yield {"started": "yes"}

    app = FastAPI(lifespan=lifespan)

    @app.get("/")
    async def root(request: Request) -> dict[str, str]:
        return {"started": request.state.started}

    async with asgi_client(app) as http:
        assert (await http.get("/")).json() == {"started": "yes"}


def test_reference_dir_is_beside_the_repository() -> None:
    assert reference_dir().name == "reference"


def test_the_locust_students_start_in_their_own_process():
    """The students' process imports locust after gevent patched ssl (no RecursionError); --help exits 0."""
    from ncp_testkit.load import students_command

    done = subprocess.run(students_command("--help"), capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "--users" in done.stdout


def test_a_process_run_beside_gives_its_output_or_is_stopped_with_the_block():
    import sys
    import time

    import pytest

    from ncp_testkit.stack import run_beside

    with run_beside([sys.executable, "-c", "print('measured')"]) as output:
        assert output(30) == "measured\n"
    with run_beside([sys.executable, "-c", "raise SystemExit(3)"]) as output, \
            pytest.raises(RuntimeError, match="exited with 3"):
        output(30)
    started = time.monotonic()
    with run_beside([sys.executable, "-c", "import time; time.sleep(60)"]):
        pass  # the block ends first: the process is killed, not waited for
    assert time.monotonic() - started < 30
