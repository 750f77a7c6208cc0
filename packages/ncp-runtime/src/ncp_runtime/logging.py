"""JSON log lines with the service name and request id; configured by create_app, never at import."""

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from .context import request_id
from .tracing import current_trace_ids

_RESERVED = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


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
        if record.exc_info and record.exc_info[0] is not None:
            line["exc_type"] = record.exc_info[0].__name__
        return json.dumps(line, default=str, ensure_ascii=False)


def configure(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    for old in list(root.handlers):
        if isinstance(old.formatter, JsonFormatter):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn's access log would print client addresses and full query strings.
    logging.getLogger("uvicorn.access").disabled = True
