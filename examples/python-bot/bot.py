"""A navigator bot for Roulette: it redeems an invite, votes on the project, chats, and suggests
prompts for the driver to approve. It prints what it did as JSON lines on stdout.

    python bot.py --server http://127.0.0.1:7878 --invite CODE

It uses the ``roulette`` Python package (bindings/python), nothing else.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any, Dict, List

import roulette

SUGGESTIONS = [
    "echo bot-suggestion-1: start with a failing test",
    "echo bot-suggestion-2: then make it pass",
]


def log(what: str, **details: Any) -> None:
    print(json.dumps({"did": what, **details}), flush=True)


async def run(server: str, invite: str, suggestions: List[str], timeout: float) -> Dict[str, Any]:
    me = await roulette.connect(server)
    log("connected", participant=me.participant, name=me.name)
    await me.redeem_invite(invite)
    log("redeemed_invite")
    pending = list(suggestions)
    sent: List[int] = []
    async with me:
        async for event in me.events():
            kind = event["type"]
            if kind == "error":
                log("refused", code=event["code"], message=event["message"])
            elif kind == "matched":
                log("matched", partner=event["partner_name"])
                await me.chat("Hi! I'm a navigator bot. I'll suggest prompts; you approve them.")
            elif kind == "planning":
                # Vote for the idea with the shortest description: quick wins first.
                idea = min(event["ideas"], key=lambda i: len(i["text"]))
                await me.vote(idea["id"], "up")
                log("voted", idea=idea["id"], text=idea["text"])
            elif kind == "building":
                log("building", idea=event["idea"]["text"])
                await me.chat(f"Let's build: {event['idea']['text']}")
                if pending:
                    await me.suggest_prompt(pending.pop(0))
                    log("suggested", text=suggestions[len(suggestions) - len(pending) - 1])
            elif kind == "prompt_sent":
                sent.append(event["id"])
                log("prompt_sent", id=event["id"])
                if pending:
                    text = pending.pop(0)
                    await me.suggest_prompt(text)
                    log("suggested", text=text)
                else:
                    await me.chat("That's all my suggestions. Good luck!")
                    log("done")
                    return {"sent": sent}
            elif kind == "prompt_rejected":
                log("prompt_rejected", id=event["id"])
            elif kind == "ended":
                log("ended", reason=event["reason"])
                return {"sent": sent}
            elif kind == "closed":
                break
    return {"sent": sent}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True)
    parser.add_argument("--invite", required=True)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    try:
        result = asyncio.run(
            asyncio.wait_for(run(args.server, args.invite, SUGGESTIONS, args.timeout), args.timeout)
        )
    except roulette.RouletteError as e:
        log("failed", code=e.code, message=str(e))
        return 1
    log("finished", **result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
