"""`emrex audit verify` and `emrex audit export` on the audit the real flow wrote (real signer, its log
captured as JSON lines): intact, tampered, signatures missing either way; one learner's transfers exactly."""

import asyncio
import hashlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from emrex_cli.main import main as emrex
from emrex_elmo import transport
from ncp_gateway.adapters.store import make_engine
from ncp_runtime.logging import JsonFormatter


@pytest.fixture
def signature_log(tmp_path: Path) -> Iterator[Path]:
    """The signer's log lines as its container would write them (ncp-runtime's JSON formatter)."""
    path = tmp_path / "signer.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(JsonFormatter("signer"))
    logger = logging.getLogger("ncp_signer")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield path
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
        handler.close()


async def send_one(browser, kit, sub: str, keys: list[str] | None = None) -> bytes:
    await browser.login(sub)
    page = await browser.selection()
    everything = kit.form_fields(page.text, "//form[@id='selection']").get("shown", [])
    assert (await browser.submit(keys=everything if keys is None else keys, page=page)).status_code == 303
    handoff = kit.handoff_of(await browser.send())
    assert handoff.fields["returnCode"] == "NCP_OK"
    return transport.decode(handoff.fields["elmo"])


@pytest.fixture
async def history(browser, kit, signature_log: Path) -> list[bytes]:
    """Four transfers: learner 1 sends twice and cancels once; learner 2 sends once."""
    sent = [await send_one(browser, kit, "demo-learner-1", ["r0.0.0.0", "r1.0"])]
    sent.append(await send_one(browser, kit, "demo-learner-2"))
    await browser.login("demo-learner-1")
    assert kit.handoff_of(await browser.cancel()).fields["returnCode"] == "NCP_CANCEL"
    sent.append(await send_one(browser, kit, "demo-learner-1"))
    return sent


async def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    # The command runs its own event loop, as from a shell: in a thread beside the test's loop.
    code = await asyncio.to_thread(emrex, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def db_url(settings) -> str:
    return f"sqlite:///{settings.database_path}"


async def test_verify_finds_the_flow_intact_and_every_signature_matched(history, gateway_settings, signature_log,
                                                                        capsys) -> None:
    code, out, _ = await run(capsys, "audit", "verify", "--database-url", db_url(gateway_settings),
                       "--signature-log", str(signature_log))
    assert code == 0, out
    assert "audit chain intact: 4 records" in out
    assert "3 ELMO signatures; 0 records without a signature, 0 signatures without a record" in out


async def test_verify_reports_the_first_broken_link_and_fails(history, gateway_settings, capsys) -> None:
    engine = make_engine(gateway_settings.sqlalchemy_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE gateway_audit SET receiver_origin = 'https://other.example' "
                                    "WHERE seq = 2"))
    finally:
        await engine.dispose()
    code, out, _ = await run(capsys, "audit", "verify", "--database-url", db_url(gateway_settings))
    assert code == 1
    assert "audit chain BROKEN at record 2" in out
    assert "1 of 4 records verified" in out


async def test_verify_reports_records_without_signature_and_signatures_without_record(
        history, gateway_settings, signature_log, tmp_path, capsys) -> None:
    lines = signature_log.read_text().splitlines()
    signed = [json.loads(line) for line in lines if json.loads(line).get("msg") == "signed"]
    assert len(signed) == 3
    dropped = signed[1]["sha256"]
    stray = hashlib.sha256(b"signed but never handed off").hexdigest()
    edited = tmp_path / "edited.log"
    edited.write_text("\n".join([*(line for line in lines if dropped not in line), "not json",
                                 json.dumps({"msg": "signed", "sha256": stray})]) + "\n")
    code, out, _ = await run(capsys, "audit", "verify", "--database-url", db_url(gateway_settings),
                       "--signature-log", str(edited))
    assert code == 1
    assert "audit chain intact" in out
    assert "record 2: its ELMO is not in the signature log" in out
    assert f"signature sha256={stray}: no audit record names it" in out


async def test_export_lists_exactly_that_learners_transfers(history, gateway_settings, secret_files, kit,
                                                            capsys) -> None:
    async def export(sub: str) -> dict:
        code, out, err = await run(capsys, "audit", "export", "--database-url", db_url(gateway_settings),
                             "--learner", sub, "--issuer", gateway_settings.oidc_issuer,
                             "--pseudonym-key-file", str(secret_files.pseudonym_key))
        assert code == 0, err
        return json.loads(out)

    one = await export("demo-learner-1")
    assert [(t["return_code"], t["protocol"], t["receiver"]) for t in one["transfers"]] == [
        ("NCP_OK", "emrex1", kit.RETURN_ORIGIN), ("NCP_CANCEL", "emrex1", kit.RETURN_ORIGIN),
        ("NCP_OK", "emrex1", kit.RETURN_ORIGIN)]
    first, _, last = one["transfers"]
    assert first["institutions"] == ["aurora.example.fi", "nordlys.example.se"]
    assert first["learning_opportunities"] == 4
    assert first["credits"] == "12.5"
    assert first["elmo_sha256"] == hashlib.sha256(history[0]).hexdigest()
    assert last["elmo_sha256"] == hashlib.sha256(history[2]).hexdigest()
    assert all(t["when"].endswith("+00:00") for t in one["transfers"])
    two = await export("demo-learner-2")
    assert [t["elmo_sha256"] for t in two["transfers"]] == [hashlib.sha256(history[1]).hexdigest()]
    assert two["learner_pseudonym"] != one["learner_pseudonym"]
    assert (await export("demo-learner-99"))["transfers"] == []
    assert "demo-learner" not in json.dumps(one)  # the export names the learner by pseudonym only


async def test_export_without_key_or_database_fails_in_one_line(tmp_path, monkeypatch, capsys) -> None:
    for name in ("DATABASE_URL", "DATABASE_PATH", "PSEUDONYM_KEY_PATH", "OIDC_ISSUER"):
        monkeypatch.delenv(f"NCP_GATEWAY_{name}", raising=False)
    code, _, err = await run(capsys, "audit", "verify")
    assert (code, err) == (1, "emrex: no database: give --database-url or set NCP_GATEWAY_DATABASE_URL\n")
    missing = tmp_path / "nowhere.db"
    code, _, err = await run(capsys, "audit", "verify", "--database-url", f"sqlite:///{missing}")
    assert code == 1
    assert "no such database file" in err
    assert not missing.exists()
    code, _, err = await run(capsys, "audit", "export", "--database-url", f"sqlite:///{missing}", "--learner", "x",
                       "--issuer", "https://op.example")
    assert code == 1
    assert "pseudonym key" in err
