"""A stored transfer keeps its fetched results as JSON text, read into the model only by the steps that use them."""

import datetime as dt
import json

from emrex_elmo import Elmo
from ncp_gateway.domain.transfer import Transfer
from ncp_testkit.elmo import sample_elmo

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


def transfer(**fields: object) -> Transfer:
    return Transfer(session_id="s-1", return_url="https://emp.example/return", receiver_origin="https://emp.example",
                    receiver_host="emp.example", created_at=NOW, expires_at=NOW, csrf="c" * 32, **fields)


def test_results_survive_the_store_and_are_read_only_when_asked_for() -> None:
    elmo = sample_elmo(4)
    saved = transfer()
    saved.results = elmo
    loaded = Transfer.model_validate_json(saved.model_dump_json())
    assert loaded._results is None  # a step that never looks at the results does not pay for reading them
    assert loaded.results == elmo
    assert loaded.results is loaded.results  # read once per loaded record


def test_a_record_stored_with_the_results_as_an_object_still_loads() -> None:
    # Records written before results_json (a rolling update meets transfers in flight) held the object itself.
    elmo = sample_elmo(3)
    record = json.loads(transfer(results=elmo).model_dump_json())
    record["results"] = json.loads(record.pop("results_json"))
    loaded = Transfer.model_validate_json(json.dumps(record))
    assert loaded.results == elmo
    assert json.loads(loaded.model_dump_json())["results_json"] is not None


def test_setting_the_results_rewrites_the_stored_text() -> None:
    held = transfer(results=sample_elmo(2))
    other = sample_elmo(5)
    held.results = other
    assert Transfer.model_validate_json(held.model_dump_json()).results == other
    held.results = None
    assert held.results is None
    assert held.results_json is None


def test_a_copy_keeps_the_results() -> None:
    held = transfer(results=sample_elmo(2))
    assert held.model_copy(update={"expires_at": NOW + dt.timedelta(minutes=5)}).results == held.results


def test_loads_of_the_same_results_share_one_reading_and_other_results_get_theirs() -> None:
    saved = transfer(results=sample_elmo(3)).model_dump_json()
    first, second = Transfer.model_validate_json(saved), Transfer.model_validate_json(saved)
    assert first.results is second.results  # the selection page and its submit read once
    other = transfer(results=sample_elmo(4))
    assert Transfer.model_validate_json(other.model_dump_json()).results == sample_elmo(4)
    assert first.results == sample_elmo(3)


def test_results_just_set_are_read_back_without_validating_their_text_again(monkeypatch) -> None:
    """The login stores the results and the selection page reads them next: in the same process that read is
    the model the login set, which is what validating its text gives (equal, and the same JSON; only the class
    of UTC differs: timezone.utc against pydantic's TzInfo(0))."""
    elmo = sample_elmo(6)
    saved = transfer()
    saved.results = elmo
    record = saved.model_dump_json()
    validated = Elmo.model_validate_json(saved.results_json or "")
    assert validated == elmo
    assert validated.model_dump_json() == saved.results_json

    def refuse(*_: object, **__: object) -> Elmo:
        raise AssertionError("validated again")

    monkeypatch.setattr(Elmo, "model_validate_json", refuse)
    assert Transfer.model_validate_json(record).results is elmo
