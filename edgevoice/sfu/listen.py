"""What each audio section of a WHEP listener's offer receives: a pure decision.

A listener hears one of three feeds: the caller, the agent, or the conversation (both
mixed, made once per session however many listeners want it). Off-the-shelf players
offer one receiving audio section: it gets the conversation, or the side chosen with
``?track=``. An offer of two receiving audio sections keeps the caller on the first
and the agent on the second. Sections beyond those, and those that cannot receive,
get nothing (``inactive``).
"""

from __future__ import annotations

from enum import Enum


class Feed(Enum):
    CALLER = "caller"
    AGENT = "agent"
    MIX = "mix"


RECEIVING = frozenset({"recvonly", "sendrecv"})


def plan_feeds(directions: list[str], chosen: Feed | None = None) -> list[Feed | None]:
    """One feed (or None) per audio section of the offer, given its directions."""
    receiving = [i for i, direction in enumerate(directions) if direction in RECEIVING]
    plan: list[Feed | None] = [None] * len(directions)
    if not receiving:
        return plan
    if chosen is not None:
        plan[receiving[0]] = chosen
    elif len(receiving) == 1:
        plan[receiving[0]] = Feed.MIX
    else:
        plan[receiving[0]], plan[receiving[1]] = Feed.CALLER, Feed.AGENT
    return plan


def parse_feed(value: str | None) -> Feed | None:
    """``?track=caller|agent|mix`` (None when absent); ValueError names the choices."""
    if value is None or value == "":
        return None
    try:
        return Feed(value.strip().lower())
    except ValueError:
        choices = "|".join(f.value for f in Feed)
        raise ValueError(f"track must be one of {choices}, got {value[:40]!r}") from None
