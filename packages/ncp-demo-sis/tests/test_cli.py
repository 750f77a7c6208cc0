"""`emrex demo seed` / `emrex demo logins`, and the sis-adapter as a real process seeding the demo (make run)."""

import asyncio
import sys
from pathlib import Path

import httpx
import pytest

from emrex_cli.main import main
from ncp_contracts import BearerAuth
from ncp_contracts.sis import LearnerIdentity, ResultsQuery, SisClient
from ncp_testkit import free_port, write_caller_tokens
from ncp_testkit.stack import start_process


def test_demo_seed_is_idempotent(tmp_path: Path, capsys):
    url = f"sqlite+aiosqlite:///{tmp_path / 'sis.db'}"
    assert main(["demo", "seed", "--database-url", url]) == 0
    assert "seeded 4 institutions, 24 learners" in capsys.readouterr().out
    assert main(["demo", "seed", "--database-url", url]) == 0
    assert "already present" in capsys.readouterr().out
    assert main(["demo", "seed", "--database-url", url, "--reset"]) == 0
    assert "seeded 4 institutions" in capsys.readouterr().out


def test_demo_seed_bad_url_is_exit_1(capsys):
    assert main(["demo", "seed", "--database-url", "mysql://nope"]) == 1
    assert "bad database URL" in capsys.readouterr().err


def test_demo_logins_lists_the_fixed_logins(capsys):
    assert main(["demo", "logins"]) == 0
    out = capsys.readouterr().out
    assert "demo-learner-1 " in out
    assert "demo-learner-empty" in out


@pytest.mark.postgres
async def test_demo_seed_on_postgres(pg_url, pg_schema, capsys):
    # The CLI runs its own event loop, so it runs in a thread here; pg_schema skips when PostgreSQL is down.
    args = ["demo", "seed", "--database-url", pg_url, "--schema", pg_schema]
    assert await asyncio.to_thread(main, args) == 0
    assert "seeded 4 institutions" in capsys.readouterr().out
    assert await asyncio.to_thread(main, args) == 0
    assert "already present" in capsys.readouterr().out


async def test_service_process_with_the_dev_settings(tmp_path: Path):
    token = write_caller_tokens(tmp_path / "tokens", "gateway")["gateway"]
    port = free_port()
    env = {"NCP_SIS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/data/sis.db",
           "NCP_SIS_SEED_DEMO": "true", "NCP_SIS_CALLER_TOKENS_PATH": str(tmp_path / "tokens"),
           "NCP_SIS_PORT": str(port)}
    with start_process("sis-adapter", [sys.executable, "-m", "ncp_sis_adapter"], env,
                       f"http://127.0.0.1:{port}/readyz", tmp_path / "sis.log", timeout=30) as process:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", auth=BearerAuth(token)) as http:
            answer = await SisClient(http).query(ResultsQuery(identity=LearnerIdentity(
                learner_id="demo-learner-1", subject="demo-learner-1")))
            assert answer.status == "ok"
            assert len(answer.reports) >= 2
    err = process.log.read_bytes()
    assert b"Traceback" not in err
    assert b"demo-learner-1" not in err
