"""No service logs personal data: after a whole flow, no log line holds the learner's name, birth date or
identifiers (the values are read from the demo SIS itself, so they are the ones that really travelled)."""

import sqlite3
from datetime import date

import pytest

pytestmark = pytest.mark.e2e

PRODUCT_SERVICES = ("gateway", "signer", "registry", "sis", "demo")


def _learner_values(stack, learner_id: str) -> set[str]:
    with sqlite3.connect(stack.dev_dir / "data" / "sis.db") as db:
        rows = db.execute(
            "SELECT given_names, family_name, bday, national_id, esi FROM sis_learner WHERE learner_id = ?",
            (learner_id,),
        ).fetchall()
    assert rows, "the demo learner is not in the SIS database"
    values = {learner_id}
    for given, family, bday, national_id, esi in rows:
        born = date.fromisoformat(str(bday))
        values |= {*given.split(), family, national_id, esi, esi.rsplit(":", 1)[-1],
                   born.isoformat(), f"{born:%d.%m.%Y}", f"{born:%d/%m/%Y}", f"{born:%Y%m%d}"}
    return values


def test_no_personal_data_in_any_service_log(student):
    answer = student.send_everything()
    assert answer["code"] == "NCP_OK"
    page = student.page
    # The learner really travelled: the client shows the name the SIS holds.
    secrets = _learner_values(student.stack, "demo-learner-1")
    assert "Virtanen" in secrets
    assert "Virtanen" in page.inner_text("main")

    for name in PRODUCT_SERVICES:
        log = student.stack.processes[name].log.read_text(errors="replace")
        assert log.strip(), f"{name} wrote no log at all, so this test would prove nothing"
        found = sorted(value for value in secrets if value in log)
        assert not found, f"{name}'s log holds personal data: {found}"
