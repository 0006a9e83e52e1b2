"""CI runs the bot against a real server and a host agent running a shell, and checks what it
did: it redeemed the invite, voted, chatted, and its approved suggestions reached the shell."""

import asyncio
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bindings", "python", "tests"))
from conftest import Server  # noqa: E402

import roulette  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def ran(shell: bytes, n: int) -> bool:
    """Whether the shell printed suggestion n's output (a line not preceded by `echo `)."""
    return re.search(rb"(?<!echo )bot-suggestion-%d: [a-z ]+\r\n" % n, shell) is not None


def test_the_bot_navigates_a_session():
    server = Server()
    try:
        asyncio.run(drive(server))
    finally:
        server.stop()


async def drive(server):
    host = await roulette.host(server.url, server.host_token(), ["bash", "--norc", "--noprofile", "-i"], invite=True, output=True)
    invite = None
    async for event in host.events():
        if event.get("status") == "invite":
            invite = event["detail"]
            break
    assert invite
    bot = await asyncio.create_subprocess_exec(
        sys.executable,
        os.path.join(HERE, "bot.py"),
        "--server",
        server.url,
        "--invite",
        invite,
        stdout=subprocess.PIPE,
        env=dict(os.environ),
    )
    seen_at_host = []
    shell = b""

    async def host_side():
        nonlocal shell
        async for event in host.events():
            seen_at_host.append(event)
            kind = event.get("type")
            if kind == "planning":
                pass
            elif kind == "tally" and event["up"] >= 1:
                # The host agrees with the bot's choice: planning ends.
                await host.send({"type": "vote", "idea": event["idea"], "vote": "up"})
            elif kind == "prompt_waiting":
                await host.send(
                    {"type": "decide_prompt", "id": event["prompt"]["id"], "approve": True, "acknowledge_warnings": False}
                )
            elif kind == "output":
                shell += event["data"]
                if ran(shell, 2):
                    return

    try:
        await asyncio.wait_for(host_side(), 30)
    except asyncio.TimeoutError:
        raise AssertionError(f"host saw {[e.get('type') or e.get('status') for e in seen_at_host]}, shell {shell[-400:]!r}")
    out, _ = await asyncio.wait_for(bot.communicate(), 60)
    assert bot.returncode == 0, out
    did = [json.loads(line) for line in out.decode().splitlines()]
    steps = [d["did"] for d in did]
    for step in ["connected", "redeemed_invite", "matched", "voted", "building", "suggested", "prompt_sent", "done", "finished"]:
        assert step in steps, steps
    assert did[-1]["sent"] and len(did[-1]["sent"]) == 2
    # The host saw the bot's chat, and both suggestions ran in the shell (bash takes them as
    # bracketed pastes, as an agent does).
    notices = [e["detail"] for e in seen_at_host if e.get("status") == "notice"]
    assert any("navigator bot" in n for n in notices), notices
    assert ran(shell, 1) and ran(shell, 2)
    host.stop()
