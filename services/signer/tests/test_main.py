"""`ncp-signer` as a real uvicorn process on loopback, called through the contract client."""

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

import emrex_elmo
from ncp_contracts import BearerAuth
from ncp_contracts.signer import SignerClient
from ncp_signer.domain.samples import sample_xml


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(key_files, tokens):
    port = _free_port()
    env = {**os.environ, "NCP_SIGNER_PORT": str(port), "NCP_SIGNER_KEY_FILE": str(key_files[0]),
           "NCP_SIGNER_CERT_FILE": str(key_files[1]), "NCP_SIGNER_CALLER_TOKENS_PATH": str(tokens.path)}
    proc = subprocess.Popen([sys.executable, "-m", "ncp_signer"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"signer did not start: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.1)  # noqa: TID251
    yield base
    proc.terminate()
    proc.communicate(timeout=10)


async def test_process_signs_through_the_contract_client(server, tokens, rsa_key):
    async with httpx.AsyncClient(base_url=server, auth=BearerAuth(tokens.gateway), timeout=30) as http:
        client = SignerClient(http)
        signed = await client.sign(sample_xml(5))
        certificates = (await client.certificates()).certificates
    emrex_elmo.verify(signed, [rsa_key.certificate])
    assert [c.key_id for c in certificates] == ["default"]


def test_dev_procfile_runs_the_signer_on_8001():
    from pathlib import Path

    procfile = (Path(__file__).resolve().parents[1] / "dev.procfile").read_text().strip().splitlines()
    assert len(procfile) == 1
    name, command = procfile[0].split(":", 1)
    assert name == "signer"
    assert "NCP_SIGNER_PORT=${NCP_SIGNER_PORT:-8001}" in command
    for needed in ("$NCP_DEV_DIR/keys/signing.key", "$NCP_DEV_DIR/keys/signing.crt", "$NCP_DEV_DIR/tokens",
                   "ncp-signer"):
        assert needed in command
    from ncp_signer import Settings

    assert Settings().port == 8001
