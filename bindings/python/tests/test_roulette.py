"""The Python binding against a real server: connect, pair with a host agent running a shell,
talk, vote, swap, suggest prompts, type; the chat roulette; errors as exception classes."""

import asyncio
import inspect

import pytest

import roulette

TIMEOUT = 20


async def until(source, pred, what):
    async def wait():
        async for event in source.events():
            if pred(event):
                return event
        raise AssertionError(f"events ended before {what}")

    return await asyncio.wait_for(wait(), TIMEOUT)


def of_type(kind):
    return lambda e: e["type"] == kind


async def pair(server, command=("sh",)):
    h = await roulette.host(server.url, server.host_token(), list(command))
    assert isinstance(h, roulette.Host)
    await until(h, lambda e: e.get("status") == "waiting", "the host waiting")
    me = await roulette.connect(server.url)
    await me.find_partner()
    return h, me


def test_a_session_with_a_host_agent_running_a_shell(server):
    async def main():
        h, me = await pair(server)
        building = await until(me, of_type("building"), "building")
        assert building["driver"] == building["host"] != me.participant
        await me.chat("hello from python")
        note = await until(h, lambda e: e.get("status") == "notice", "the chat at the host")
        assert note["detail"].endswith("hello from python")
        # The host drives; the output reaches the participant as bytes.
        await h.keys(b"echo from-the-$((40 + 2))\r")
        seen = b""
        async for event in me.events():
            if event["type"] in ("output", "snapshot"):
                assert isinstance(event["data"], bytes)
                seen += event["data"]
                if b"from-the-42" in seen:
                    break
        # Navigator input is refused, never typed.
        await me.input(b"echo nope\r")
        err = await until(me, of_type("error"), "not_driver")
        assert err["code"] == "not_driver"
        # Swap: the participant asks, the host accepts, and the participant drives.
        await me.request_swap()
        await until(h, lambda e: e.get("type") == "swap_requested", "the request at the host")
        await h.send({"type": "answer_swap", "accept": True})
        changed = await until(me, of_type("driver_changed"), "the swap")
        assert changed["driver"] == me.participant
        # A suggestion waits for the driver.
        await h.send({"type": "suggest_prompt", "text": "add a test"})
        waiting = await until(me, of_type("prompt_waiting"), "the suggestion")
        assert waiting["prompt"]["text"] == "add a test"
        await me.leave()
        ended = await until(me, of_type("ended"), "the end")
        assert ended["reason"]["kind"] == "partner_left" or "partner" in str(ended["reason"])
        me.close()
        h.stop()

    asyncio.run(main())


def test_the_vote_in_planning(planning_server):
    async def main():
        h, me = await pair(planning_server)
        planning = await until(me, of_type("planning"), "planning")
        idea = planning["ideas"][0]["id"]
        await me.add_idea("a tiny chess clock")
        await until(me, of_type("idea_added"), "the idea")
        await me.vote(idea, "up")
        await until(me, of_type("tally"), "the tally")
        await h.send({"type": "vote", "idea": idea, "vote": "up"})
        building = await until(me, of_type("building"), "building")
        assert building["idea"]["id"] == idea
        me.close()
        h.stop()

    asyncio.run(main())


def test_the_chat_roulette(server):
    async def main():
        a = await roulette.connect(server.url, chat=True)
        b = await roulette.connect(server.url, chat=True)
        for s in (a, b):
            await until(s, of_type("solved"), "the proof of work")
            await s.find_partner("chat")
        m = await until(a, of_type("matched"), "matched")
        assert m["partner_name"] == b.name
        await until(b, of_type("matched"), "matched")
        await a.chat("\x1b[31mhi\u202e")
        got = await until(b, of_type("chat"), "the chat")
        assert got["text"] == "hi"
        await b.skip()
        await until(a, of_type("ended"), "the skip")
        a.close()
        b.close()

    asyncio.run(main())


def test_errors_are_exception_classes_with_codes(server):
    async def main():
        with pytest.raises(roulette.UnauthorizedError) as e:
            await roulette.connect(server.url, token="forged.token.value")
        assert e.value.code == "unauthorized"
        with pytest.raises(roulette.ConnectError):
            await roulette.connect("http://127.0.0.1:1")
        me = await roulette.connect(server.url)
        with pytest.raises(roulette.BadMessageError) as e:
            await me.send({"type": "become_admin"})
        assert e.value.code == "bad_message"
        assert isinstance(e.value, roulette.RouletteError)
        with pytest.raises(roulette.InvalidArgumentError):
            await roulette.host(server.url, "", ["sh"])
        # A guest comes back as itself with its token.
        again = await roulette.connect(server.url, token=me.token)
        assert again.participant == me.participant
        me.close()
        again.close()

    asyncio.run(main())


def test_the_api_is_typed_and_async():
    assert inspect.iscoroutinefunction(roulette.connect)
    assert inspect.iscoroutinefunction(roulette.Session.chat)
    import importlib.resources

    files = importlib.resources.files("roulette")
    assert (files / "py.typed").is_file()
    assert (files / "__init__.pyi").is_file()
