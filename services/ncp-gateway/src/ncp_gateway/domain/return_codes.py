"""EMREX return codes: NCP_* by default, EMP_* by configuration (globally or per receiver origin)."""

from collections.abc import Mapping
from enum import StrEnum


class Outcome(StrEnum):
    OK = "OK"
    NO_RESULTS = "NO_RESULTS"
    CANCEL = "CANCEL"
    ERROR = "ERROR"


def return_code(outcome: Outcome, origin: str, default_prefix: str, by_origin: Mapping[str, str]) -> str:
    prefix = by_origin.get(origin, default_prefix)
    return f"{prefix}_{outcome.value}"
