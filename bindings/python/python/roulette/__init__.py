"""Roulette from Python: pair with another developer, or wait in the chat roulette, with asyncio.

A thin layer over the Rust client (``roulette._roulette``): connecting, authenticating,
resuming and decoding happen there; this module gives them Python shapes. Native calls run in
asyncio's thread pool with the GIL released, so no thread but Python's own ever touches a
Python object, and nothing is left running when the program ends.

    import asyncio, roulette

    async def main():
        me = await roulette.connect("http://127.0.0.1:7878")
        await me.find_partner()
        async for event in me.events():
            if event["type"] == "building":
                await me.chat("hello!")

    asyncio.run(main())
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
from typing import Any, AsyncIterator, Dict, List, Optional

from . import _roulette

__all__ = [
    "BadMessageError",
    "ClosedError",
    "ConnectError",
    "Host",
    "HostError",
    "InvalidArgumentError",
    "RouletteError",
    "Session",
    "UnauthorizedError",
    "connect",
    "host",
]

Event = Dict[str, Any]


class RouletteError(Exception):
    """Any error from Roulette; ``code`` is stable (``connect_failed``, ``unauthorized``, ...)."""

    code: str = "error"

    def __init__(self, message: str, code: Optional[str] = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class ConnectError(RouletteError):
    """The server could not be reached."""

    code = "connect_failed"


class UnauthorizedError(RouletteError):
    """The token or ticket was refused."""

    code = "unauthorized"


class ClosedError(RouletteError):
    """The connection is closed."""

    code = "closed"


class BadMessageError(RouletteError):
    """A message was not valid (unknown type or field, too long)."""

    code = "bad_message"


class InvalidArgumentError(RouletteError):
    """An argument was out of range."""

    code = "invalid_argument"


class HostError(RouletteError):
    """The host agent could not start."""

    code = "host_failed"


_BY_CODE = {
    cls.code: cls
    for cls in (
        ConnectError,
        UnauthorizedError,
        ClosedError,
        BadMessageError,
        InvalidArgumentError,
        HostError,
    )
}


def _translate(error: BaseException) -> BaseException:
    if isinstance(error, _roulette.NativeError) and len(error.args) == 2:
        code, message = error.args
        return _BY_CODE.get(code, RouletteError)(message, code)
    return error


async def _call(function: Any, *args: Any) -> Any:
    """Runs a native call in the event loop's thread pool."""
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(None, functools.partial(function, *args))
    except _roulette.NativeError as error:
        raise _translate(error) from None


# How long one native wait for an event lasts before control comes back to Python.
_POLL_MS = 200


async def _next(native: Any) -> Optional[str]:
    """The next event's JSON, or None once the stream has ended."""
    while True:
        text, ended = await _call(native.next_event, _POLL_MS)
        if text is not None or ended:
            return text


def _decode(text: Optional[str]) -> Optional[Event]:
    if text is None:
        return None
    event: Event = json.loads(text)
    if event.get("type") in ("output", "snapshot"):
        event["data"] = base64.b64decode(event["data"])
    return event


class Session:
    """A participant's connection: events in, messages out."""

    def __init__(self, native: Any) -> None:
        self._native = native

    @property
    def participant(self) -> int:
        return self._native.participant

    @property
    def name(self) -> str:
        return self._native.name

    @property
    def token(self) -> Optional[str]:
        """A new guest's token: connect with it again to be the same participant."""
        return self._native.token

    async def next_event(self) -> Optional[Event]:
        """The next event (a dict with ``type``), or None once closed."""
        return _decode(await _next(self._native))

    async def events(self) -> AsyncIterator[Event]:
        """Every event until the connection closes."""
        while True:
            event = await self.next_event()
            if event is None:
                return
            yield event

    async def send(self, message: Event) -> None:
        """Sends any client message of the protocol (see docs/protocol.md)."""
        await _call(self._native.send_json, json.dumps(message))

    async def find_partner(self, kind: str = "pairing") -> None:
        await self.send({"type": "find_partner", "kind": kind})

    async def cancel_search(self) -> None:
        await self.send({"type": "cancel_search"})

    async def create_invite(self) -> None:
        await self.send({"type": "create_invite"})

    async def redeem_invite(self, code: str) -> None:
        await self.send({"type": "redeem_invite", "code": code})

    async def chat(self, text: str) -> None:
        await self.send({"type": "chat", "text": text})

    async def add_idea(self, text: str) -> None:
        await self.send({"type": "add_idea", "text": text})

    async def vote(self, idea: int, vote: str = "up") -> None:
        await self.send({"type": "vote", "idea": idea, "vote": vote})

    async def request_swap(self) -> None:
        await self.send({"type": "request_swap"})

    async def answer_swap(self, accept: bool) -> None:
        await self.send({"type": "answer_swap", "accept": accept})

    async def suggest_prompt(self, text: str) -> None:
        await self.send({"type": "suggest_prompt", "text": text})

    async def skip(self) -> None:
        await self.send({"type": "skip"})

    async def report(self, reason: str = "") -> None:
        await self.send({"type": "report", "reason": reason})

    async def leave(self) -> None:
        await self.send({"type": "leave"})

    async def input(self, data: bytes) -> None:
        """Terminal input; only the driver's reaches the agent."""
        await _call(self._native.input, bytes(data))

    async def resize(self, cols: int, rows: int) -> None:
        await self.send({"type": "resize", "cols": cols, "rows": rows})

    def close(self) -> None:
        self._native.close()

    async def __aenter__(self) -> "Session":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.close()


async def connect(server: str, token: Optional[str] = None, chat: bool = False) -> Session:
    """Connects as a participant (``chat=True``: the chat roulette, whose proof of work is
    solved for you). Without a token the server signs you in as a new guest."""
    return Session(await _call(_roulette.Participant.connect, server, token, chat))


class Host:
    """A host agent: a command in a PTY on this machine, streamed through the relay."""

    def __init__(self, native: Any) -> None:
        self._native = native

    async def next_event(self) -> Optional[Event]:
        return _decode(await _next(self._native))

    async def events(self) -> AsyncIterator[Event]:
        while True:
            event = await self.next_event()
            if event is None:
                return
            yield event

    async def send(self, message: Event) -> None:
        await _call(self._native.send_json, json.dumps(message))

    async def keys(self, data: bytes) -> None:
        await _call(self._native.keys, bytes(data))

    async def decide_line(self, line: int, allow: bool) -> None:
        await _call(self._native.decide_line, line, allow)

    def stop(self) -> None:
        self._native.stop()

    async def __aenter__(self) -> "Host":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.stop()


async def host(
    server: str,
    token: str,
    command: Optional[List[str]] = None,
    invite: bool = False,
    once: bool = True,
    output: bool = False,
) -> Host:
    """Starts a host agent running ``command`` (``claude`` by default) in a PTY. With
    ``output=True`` the agent's output comes as ``output`` events too (read them, or they
    pile up)."""
    return Host(
        await _call(_roulette.Host.start, server, token, command or [], invite, once, output)
    )
