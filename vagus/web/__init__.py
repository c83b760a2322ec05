"""The live page: device cards, the last hour, suggestions with a pacer, feedback (docs/web.md).

`WebOutput` is one of the daemon's outputs; it serves the page and its JSON
API (Starlette on uvicorn) inside the daemon's event loop. `WebState` is the
pure data the page shows; the JSON payloads are in `_payloads`.
"""

from vagus.web._app import FeedbackSink, create_app
from vagus.web._broadcast import Broadcast
from vagus.web._output import WebOutput, bind_listener
from vagus.web._payloads import (
    DEVICE_SCHEMA,
    DEVICES_SCHEMA,
    FEEDBACK_SCHEMA,
    VERDICTS,
    WINDOWS_SCHEMA,
    device_json,
    devices_json,
    feedback_json,
    parse_feedback,
    windows_json,
)
from vagus.web._state import HISTORY_S, DeviceLive, WebState, WindowColumns, WindowRing
from vagus.web.errors import FeedbackRequestError, ListenError, WebError

__all__ = [
    "DEVICES_SCHEMA",
    "DEVICE_SCHEMA",
    "FEEDBACK_SCHEMA",
    "HISTORY_S",
    "VERDICTS",
    "WINDOWS_SCHEMA",
    "Broadcast",
    "DeviceLive",
    "FeedbackRequestError",
    "FeedbackSink",
    "ListenError",
    "WebError",
    "WebOutput",
    "WebState",
    "WindowColumns",
    "WindowRing",
    "bind_listener",
    "create_app",
    "device_json",
    "devices_json",
    "feedback_json",
    "parse_feedback",
    "windows_json",
]
