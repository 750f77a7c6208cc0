"""ELMO's lexical forms read as Python values, tolerant where real documents need it (see reader.py)."""

import re
from datetime import date, datetime, time
from decimal import Decimal

_FRACTION = re.compile(r"(\.\d{6})\d+")


def read_date(value: str) -> date:
    # xs:date may carry a time zone ("2015-12-17Z", "2015-12-17+01:00"); the day is what counts.
    return date.fromisoformat(value[:10])


def read_pilot_date(value: str, dtf: str | None) -> date | None:
    # Pilot documents: ISO dates, dates in the Java pattern of their `dtf` attribute ("dd-MM-yyyy",
    # "dd.MM.yyyy", even "yyyy-mm-dd"), or free text such as "2012 Syksy", which carries no day: None.
    try:
        return read_date(value)
    except ValueError:
        pass
    if dtf:
        fmt = dtf.replace("yyyy", "%Y").replace("MM", "%m").replace("mm", "%m").replace("dd", "%d")
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            return None
    return None


def read_datetime(value: str) -> datetime:
    if len(value) == 10:
        # Real documents put an xs:date where an xs:dateTime belongs (Ladok 2015).
        return datetime.combine(date.fromisoformat(value), time())
    value = _FRACTION.sub(r"\1", value.replace("Z", "+00:00").replace("z", "+00:00"))
    return datetime.fromisoformat(value)


def read_decimal(value: str) -> Decimal:
    result = Decimal(value.replace(",", "."))
    if not result.is_finite():
        raise ValueError(value)
    return result
