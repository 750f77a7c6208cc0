"""JSON log lines with the service name and request id; configured by create_app, never at import."""

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

from .context import logged_error_id, request_id
from .tracing import current_trace_ids

_RESERVED = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def stack_of(exc: BaseException) -> list[str]:
    """Where `exc` (and each exception it was raised from) happened: types and frames, never messages,
    because messages quote values (a KeyError names the identifier it did not find)."""
    lines: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if lines:
            lines.append("raised while handling:" if current is exc.__context__ else "caused by:")
        lines.append(type(current).__qualname__)
        lines.extend(f'  File "{f.filename}", line {f.lineno}, in {f.name}' for f in
                     traceback.extract_tb(current.__traceback__))
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return lines


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "request_id": request_id.get(),
            "msg": record.getMessage(),
        }
        ids = current_trace_ids()
        if ids is not None:  # the W3C ids: a log line leads to its trace, across services
            line["trace_id"], line["span_id"] = ids
        # Structured fields passed with extra={...}; callers must not pass personal data.
        line.update({k: v for k, v in record.__dict__.items() if k not in _RESERVED})
        if record.exc_info and record.exc_info[1] is not None:
            line["exc_type"] = type(record.exc_info[1]).__name__
            line["traceback"] = stack_of(record.exc_info[1])
        # A lone surrogate in a value becomes its JSON escape instead of breaking the write to the stream.
        return json.dumps(line, default=str, ensure_ascii=False).encode("utf-8", "backslashreplace").decode()


class _AlreadyLogged(logging.Filter):
    """Drops the server's own report of an error that our middleware already logged with its ids
    (Starlette re-raises after answering, so uvicorn logs it again without them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not (record.name.startswith("uvicorn") and exc is not None
                    and logged_error_id(exc) is not None)


def configure(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    handler.addFilter(_AlreadyLogged())
    root = logging.getLogger()
    for old in list(root.handlers):
        if isinstance(old.formatter, JsonFormatter):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn's access log would print client addresses and full query strings.
    logging.getLogger("uvicorn.access").disabled = True
