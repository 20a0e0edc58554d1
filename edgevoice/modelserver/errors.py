"""Error taxonomy of the model server.

Two families, kept apart on purpose:

* ``ModelServerError`` subclasses raised *at start-up* (``ModelLoadError``) stop the
  server before it accepts connections: a missing model is an operator problem.
* ``RealtimeError`` subclasses describe a problem with *one client event*. They never
  end the connection: the session turns them into an ``error`` server event
  ``{type, code, message, param, event_id}`` and carries on.

``RealtimeError.type`` follows the Realtime protocol's ``error.type`` values:

=========================  ===========================  ==================================
class                      error.type                   typical codes
=========================  ===========================  ==================================
InvalidEventError          invalid_request_error        invalid_json, unknown_event,
                                                        invalid_event, invalid_value
InvalidStateError          invalid_request_error        input_audio_buffer_commit_empty,
                                                        response_cancel_not_active,
                                                        conversation_already_has_active_response,
                                                        item_not_found, invalid_audio_end_ms
UnsupportedFeatureError    invalid_request_error        unsupported
InternalServerError        server_error                 internal_error (a bug or a model
                                                        failure while serving one event)
=========================  ===========================  ==================================
"""

from __future__ import annotations


class ModelServerError(Exception):
    """Base class of every error the model server raises on purpose."""


class ModelLoadError(ModelServerError):
    """A bundled model could not be found or loaded at start-up."""


class RealtimeError(ModelServerError):
    """A client event could not be honoured; reported as an ``error`` server event."""

    error_type = "invalid_request_error"
    default_code = "invalid_request"

    def __init__(self, message: str, *, code: str | None = None, param: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.param = param


class InvalidEventError(RealtimeError):
    """The event is not valid JSON, has an unknown type or malformed fields."""

    default_code = "invalid_event"


class InvalidStateError(RealtimeError):
    """The event is well formed but does not fit the session's current state."""

    default_code = "invalid_state"


class UnsupportedFeatureError(RealtimeError):
    """A valid protocol feature this offline server does not implement."""

    default_code = "unsupported"


class InternalServerError(RealtimeError):
    """Something failed inside the server while handling an event."""

    error_type = "server_error"
    default_code = "internal_error"
