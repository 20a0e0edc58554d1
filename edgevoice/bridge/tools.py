"""Running the model's function calls: entry-point callables, a webhook, or built-ins.

Only the tools the session declared (``SessionSettings.tools``) are run: a call to
any other name is an error output, whatever is installed. For a declared ``name`` the
runner uses, in order:

1. a callable registered under the entry-point group ``edgevoice.tools`` with that
   name (sync or async; it gets the parsed arguments dict, returns a JSON-able value);
2. the session's webhook, if one is set: ``POST {session_id, call_id, name,
   arguments}`` as JSON (``arguments`` parsed into an object), to a checked, pinned
   address and signed (:mod:`.webhooks`); a 2xx JSON body is the output, as sent;
3. a built-in (``get_time``).

Whatever happens, ``run`` returns an output string for the model: a failure becomes
``{"error": "..."}`` (the call is never dropped).
"""

from __future__ import annotations

import datetime
import inspect
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from importlib.metadata import entry_points
from typing import Any

import httpx

from .errors import ToolError
from .events import FunctionCall
from .webhooks import WebhookPolicy, pin, signed_headers

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "edgevoice.tools"
DEFAULT_TIMEOUT_S = 10.0
ToolFunc = Callable[[dict[str, Any]], Any]


def get_time(arguments: dict[str, Any]) -> dict[str, Any]:
    """Built-in: the node's current local time."""
    now = datetime.datetime.now().astimezone()
    return {
        "time": now.strftime("%H:%M"),
        "iso": now.isoformat(timespec="seconds"),
        "timezone": now.tzname() or "",
    }


BUILTINS: Mapping[str, ToolFunc] = {"get_time": get_time}


def load_entry_point(name: str) -> ToolFunc | None:
    for point in entry_points(group=ENTRY_POINT_GROUP, name=name):
        func = point.load()
        if not callable(func):
            raise ToolError(f"entry point {point.value!r} for tool {name!r} is not callable")
        return func  # type: ignore[no-any-return]
    return None


def parse_arguments(arguments: str) -> dict[str, Any]:
    if not arguments.strip():
        return {}
    try:
        parsed = json.loads(arguments)
    except ValueError as exc:
        raise ToolError(f"the arguments are not JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise ToolError("the arguments are not a JSON object")
    return parsed


def error_output(message: str) -> str:
    return json.dumps({"error": message})


def declared_names(tools: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """The function names a session declared (Realtime or Chat Completions shape)."""
    names = set()
    for tool in tools:
        spec = tool.get("function", tool)
        if isinstance(spec, Mapping) and isinstance(spec.get("name"), str):
            names.add(spec["name"])
    return frozenset(names)


_unsigned_warned = False


class ToolRunner:
    def __init__(
        self,
        webhook_url: str | None,
        session_id: str,
        *,
        declared: Iterable[str] = (),
        policy: WebhookPolicy | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.webhook_url = webhook_url
        self.session_id = session_id
        self.declared = frozenset(declared)
        self.policy = policy or WebhookPolicy()
        self.timeout = timeout
        self._client = client
        self._owns_client = client is None

    async def run(self, call: FunctionCall) -> str:
        """Execute ``call``; always returns the output string for the model."""
        try:
            return await self._run(call)
        except ToolError as exc:
            log.warning("tool %s (%s) failed: %s", call.name, call.call_id, exc)
            return error_output(str(exc))
        except Exception as exc:
            log.exception("tool %s (%s) raised", call.name, call.call_id)
            return error_output(f"tool {call.name!r} failed: {type(exc).__name__}: {exc}")

    async def _run(self, call: FunctionCall) -> str:
        if call.name not in self.declared:
            raise ToolError(f"tool {call.name!r} was not declared by the session")
        func = load_entry_point(call.name)
        if func is not None:
            return await self._call(func, call)
        if self.webhook_url is not None:
            return await self._post(call)
        builtin = BUILTINS.get(call.name)
        if builtin is not None:
            return await self._call(builtin, call)
        raise ToolError(f"no tool named {call.name!r} (no webhook, entry point or built-in)")

    async def _call(self, func: ToolFunc, call: FunctionCall) -> str:
        result = func(parse_arguments(call.arguments))
        if inspect.isawaitable(result):
            result = await result
        try:
            return json.dumps(result)
        except (TypeError, ValueError) as exc:
            raise ToolError(f"tool {call.name!r} returned a value that is not JSON") from exc

    async def _post(self, call: FunctionCall) -> str:
        assert self.webhook_url is not None
        body = {
            "session_id": self.session_id,
            "call_id": call.call_id,
            "name": call.name,
            "arguments": parse_arguments(call.arguments),
        }
        pinned = await pin(self.webhook_url, self.policy)
        content = json.dumps(body).encode()
        headers = {**signed_headers(self.policy, content), "Host": pinned.host_header}
        if self.policy.secret is None:
            _warn_unsigned()
        extensions = {"sni_hostname": pinned.server_name} if pinned.server_name else None
        client = self._http()
        try:
            response = await client.post(
                pinned.url,
                content=content,
                headers=headers,
                timeout=self.timeout,
                extensions=extensions,
            )
        except httpx.TimeoutException as exc:
            raise ToolError(
                f"webhook for tool {call.name!r} did not answer within {self.timeout:g} s"
            ) from exc
        except httpx.HTTPError as exc:
            raise ToolError(f"webhook for tool {call.name!r} unreachable: {exc}") from exc
        if not response.is_success:
            raise ToolError(
                f"webhook for tool {call.name!r} answered HTTP {response.status_code}: "
                f"{response.text[:200]}"
            )
        try:
            json.loads(response.text)
        except ValueError as exc:
            raise ToolError(f"webhook for tool {call.name!r} answered with non-JSON") from exc
        return response.text

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            # no proxies from the environment, no redirects: the checked address is used
            self._client = httpx.AsyncClient(trust_env=False, follow_redirects=False)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None and self._owns_client:
            await self._client.aclose()
            self._client = None


def _warn_unsigned() -> None:
    global _unsigned_warned
    if not _unsigned_warned:
        _unsigned_warned = True
        log.warning("EDGEVOICE_WEBHOOK_SECRET is not set: webhook POSTs are not signed")
