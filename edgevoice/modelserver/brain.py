"""The rule-based brain: intent matching and the reply decision (pure functions)."""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

TIME_TOOL = "get_time"


class Intent(enum.Enum):
    TIME = "time"
    BOOKING = "booking"
    GOODBYE = "goodbye"
    GREETING = "greeting"
    THANKS = "thanks"
    UNKNOWN = "unknown"
    SILENCE = "silence"


# Checked in order: the first intent with a matching pattern wins.
_PATTERNS: tuple[tuple[Intent, re.Pattern[str]], ...] = (
    (Intent.TIME, re.compile(r"\bwhat time\b|\btime is it\b|\bthe time\b|\bwhat's the time\b")),
    (Intent.BOOKING, re.compile(r"\bbook\b|\bbooking\b|\bappointment\b|\bschedule\b|\breserve\b")),
    (
        Intent.GOODBYE,
        re.compile(
            r"\bgood ?bye\b|\bbye\b|\bthat'?s all\b|\bthat is all\b|\bsee you\b|\bhang up\b"
        ),
    ),
    (
        Intent.GREETING,
        re.compile(
            r"\bhello\b|\bhi\b|\bhey\b|\bcan you hear me\b|\bgood (morning|afternoon|evening)\b"
        ),
    ),
    (Intent.THANKS, re.compile(r"\bthanks?\b|\bthank you\b")),
)

_DAYS = (
    "today",
    "tomorrow",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
_PARTS_OF_DAY = ("morning", "afternoon", "evening")


def normalise(text: str) -> str:
    """Lower case, apostrophes kept, other punctuation turned into spaces."""
    cleaned = re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("\u2019", "'"))
    return " ".join(cleaned.split())


def match_intent(text: str) -> Intent:
    """The caller's intent in one utterance (pure)."""
    said = normalise(text)
    if not said:
        return Intent.SILENCE
    for intent, pattern in _PATTERNS:
        if pattern.search(said):
            return intent
    return Intent.UNKNOWN


def booking_slot(text: str) -> str | None:
    """A spoken slot such as "tomorrow morning" found in a booking request, if any."""
    words = normalise(text).split()
    day = next((word for word in words if word in _DAYS), None)
    part = next((word for word in words if word in _PARTS_OF_DAY), None)
    if day and part:
        return f"{day} {part}" if day in ("today", "tomorrow") else f"{day.title()} {part}"
    if day:
        return day if day in ("today", "tomorrow") else day.title()
    if part:
        return f"the {part}"
    return None


def spoken_time(moment: datetime) -> str:
    """A clock time the way a person says it: "10:42 AM"."""
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


def time_from_tool_output(output: str) -> str:
    """The time a ``get_time`` result carries: JSON ``{"time": …}``, an ISO stamp or text."""
    value: object = output.strip()
    try:
        value = json.loads(output)
    except ValueError:
        pass
    if isinstance(value, dict):
        for key in ("time", "current_time", "now", "datetime", "local_time"):
            if key in value:
                value = value[key]
                break
        else:
            value = next((v for v in value.values() if isinstance(v, str)), json.dumps(value))
    text = str(value).strip()
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        return text
    return spoken_time(stamp) if ("T" in text or " " in text) else text


@dataclass(frozen=True)
class UserSaid:
    text: str


@dataclass(frozen=True)
class ToolReturned:
    name: str
    output: str


@dataclass(frozen=True)
class AssistantSaid:
    text: str


HistoryEntry = UserSaid | ToolReturned | AssistantSaid


@dataclass(frozen=True)
class Say:
    text: str


@dataclass(frozen=True)
class CallTool:
    name: str
    arguments: str


Decision = Say | CallTool


def reply_to(text: str, tools: frozenset[str], now: datetime) -> Decision:
    """The reply to one user utterance (pure)."""
    intent = match_intent(text)
    if intent is Intent.TIME:
        if TIME_TOOL in tools:
            return CallTool(name=TIME_TOOL, arguments="{}")
        return Say(f"It's {spoken_time(now)}.")
    if intent is Intent.BOOKING:
        slot = booking_slot(text)
        if slot:
            return Say(f"Sure. Your appointment is booked for {slot}. Anything else I can do?")
        return Say("Sure. Your appointment is booked. Anything else I can do?")
    if intent is Intent.GOODBYE:
        return Say("Goodbye! Thanks for calling, and have a great day.")
    if intent is Intent.GREETING:
        return Say("Hi there! Yes, I can hear you clearly. How can I help you today?")
    if intent is Intent.THANKS:
        return Say("You're welcome! Anything else?")
    if intent is Intent.SILENCE:
        return Say("Sorry, I didn't catch that. Could you say it again?")
    return Say(
        "Sorry, I can only greet you, book appointments and tell the time. "
        "What would you like to do?"
    )


def decide(history: Sequence[HistoryEntry], tools: frozenset[str], now: datetime) -> Decision:
    """The next response given the conversation so far (pure).

    A tool result answers the question that asked for it; otherwise the latest user
    utterance is answered; with neither, the brain opens the conversation.
    """
    for entry in reversed(history):
        if isinstance(entry, ToolReturned):
            if entry.name == TIME_TOOL:
                return Say(f"It's {time_from_tool_output(entry.output)} right now.")
            return Say(f"Done. The {entry.name} tool said: {entry.output.strip()}")
        if isinstance(entry, UserSaid):
            return reply_to(entry.text, tools, now)
    return Say("Hello! How can I help you today?")
