"""``GET /v1/usage``: what the calling tenant's calls used (API key)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from ..errors import BadRequest
from ..http import require_api_key, service, tenant
from ..usage import parse_time

router = APIRouter(tags=["usage"], dependencies=[Depends(require_api_key)])


@router.get("/v1/usage")
async def usage(
    request: Request,
    start: str | None = Query(None, alias="from", description="ISO 8601 or Unix seconds"),
    end: str | None = Query(None, alias="to", description="ISO 8601 or Unix seconds"),
) -> dict[str, Any]:
    """Per tenant: sessions, call seconds (fractional), bytes in and out, model seconds,
    for calls that ended in [from, to) (default: all kept, until now)."""
    try:
        begin = parse_time(start, 0.0)
        until = parse_time(end, time.time() + 1)
    except ValueError as exc:
        raise BadRequest(f"from/to: {exc}") from None
    if until < begin:
        raise BadRequest("'to' is before 'from'")
    return await service(request).usage(tenant(request), begin, until)
