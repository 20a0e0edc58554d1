"""What a tenant's calls used: one entry per call when it ends, summed on request.

An entry: the session, its model, when it ended, call seconds (connected → ended,
fractional), RTP payload bytes in (from the caller) and out (to the caller), and model
seconds (the call seconds of a session whose model is not the echo model: the model
link is open for the whole call). Sessions that never connected used nothing and have
no entry.
"""

from __future__ import annotations

import datetime
from typing import Any

from .records import SessionRecord


def usage_entry(record: SessionRecord, final: dict[str, Any] | None) -> dict[str, Any] | None:
    """The entry of an ended call (None if it never connected)."""
    if record.connected_at is None or record.ended_at is None:
        return None
    seconds = max(0.0, record.ended_at - record.connected_at)
    tracks = (final or {}).get("tracks") or {}
    return {
        "session": record.id,
        "model": record.model,
        "ended_at": round(record.ended_at, 3),
        "call_seconds": round(seconds, 3),
        "bytes_in": int((tracks.get("caller_audio") or {}).get("bytes") or 0),
        "bytes_out": int((tracks.get("reply_audio") or {}).get("bytes") or 0),
        "model_seconds": 0.0 if record.model == "echo" else round(seconds, 3),
    }


def usage_summary(
    tenant: str, start: float, end: float, entries: list[dict[str, Any]]
) -> dict[str, Any]:
    totals = {"sessions": 0, "call_seconds": 0.0, "bytes_in": 0, "bytes_out": 0,
              "model_seconds": 0.0}  # fmt: skip
    by_model: dict[str, dict[str, Any]] = {}
    for entry in entries:
        for bucket in (totals, by_model.setdefault(entry["model"], {**totals, "sessions": 0})):
            bucket["sessions"] += 1
            for key in ("call_seconds", "bytes_in", "bytes_out", "model_seconds"):
                bucket[key] += entry[key]
    for bucket in (totals, *by_model.values()):
        bucket["call_seconds"] = round(bucket["call_seconds"], 3)
        bucket["model_seconds"] = round(bucket["model_seconds"], 3)
    return {"tenant": tenant, "from": start, "to": end, **totals, "by_model": by_model}


def parse_time(text: str | None, default: float) -> float:
    """ISO 8601 (a date, or a date and time; UTC unless it says otherwise) or Unix
    seconds; ``default`` when absent. Raises ValueError with what was wrong."""
    if text is None or text == "":
        return default
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is neither ISO 8601 nor Unix seconds") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()
