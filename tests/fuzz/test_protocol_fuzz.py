"""Property-based tests of the realtime protocol parsers, both ends of the model socket.

bridge/protocol.py reads server events (a remote model is not trusted to be well
formed); modelserver/client_events.py reads client events. Whatever arrives, each
returns a typed value or raises its own error type: never another exception.
"""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings

from edgevoice.bridge import protocol
from edgevoice.modelserver.client_events import event_id_of, parse_client_event
from edgevoice.modelserver.errors import InvalidEventError

from .strategies import event_objects, raw_messages

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DEEP = "[" * 100_000 + "]" * 100_000

SERVER_TYPES = sorted(
    protocol.AUDIO_DELTA | protocol.AUDIO_DONE | protocol.TRANSCRIPT_DELTA
    | protocol.TRANSCRIPT_DONE | protocol.QUIET
    | {"conversation.item.input_audio_transcription.completed",
       "input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped",
       "response.created", "response.done", "response.function_call_arguments.done",
       "error", "session.created", "session.updated"}
)  # fmt: skip
SERVER_FIELDS = ["response_id", "item_id", "delta", "transcript", "audio_start_ms",
                 "audio_end_ms", "response", "call_id", "name", "arguments", "error",
                 "session"]  # fmt: skip
CLIENT_TYPES = ["session.update", "input_audio_buffer.append", "input_audio_buffer.commit",
                "input_audio_buffer.clear", "conversation.item.create",
                "conversation.item.truncate", "conversation.item.delete", "response.create",
                "response.cancel"]  # fmt: skip
CLIENT_FIELDS = ["event_id", "session", "audio", "item", "previous_item_id", "item_id",
                 "content_index", "audio_end_ms", "response", "response_id"]  # fmt: skip


@FUZZ
@given(raw_messages(event_objects(SERVER_TYPES, SERVER_FIELDS)))
@example(DEEP)
@example('{"type": "response.output_audio.delta", "response_id": "r", "item_id": "i", '
         '"delta": "\\u00e9"}')  # fmt: skip
def test_server_events_translate_or_raise_protocol_error(raw: str | bytes) -> None:
    try:
        data = protocol.parse_json(raw)
        protocol.translate(data)
    except protocol.ProtocolError:
        pass


@FUZZ
@given(raw_messages(event_objects(CLIENT_TYPES, CLIENT_FIELDS)))
@example(DEEP)
@example('{"type": "session.update", "session": ' + "[" * 5000 + "]" * 5000 + "}")
def test_client_events_parse_or_raise_invalid_event(raw: str | bytes) -> None:
    try:
        parse_client_event(raw)
    except InvalidEventError:
        pass
    event_id = event_id_of(raw)
    assert event_id is None or isinstance(event_id, str)
