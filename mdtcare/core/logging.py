"""Structured logs: one JSON object per line. Messages name ids, never
patient details (NHS numbers, names or clinical text)."""

import json
import logging
from datetime import UTC, datetime


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        from mdtcare.core.middleware import request_id_var

        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", ""),
        }
        status = getattr(record, "status_code", None)
        if status is not None:
            entry["status"] = status
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)
