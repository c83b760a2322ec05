"""Errors of the web page (`vagus.web`)."""

from __future__ import annotations

from vagus.errors import UserError


class WebError(Exception):
    """Root of every error of `vagus.web`."""


class ListenError(WebError, UserError):
    """The page cannot listen where the config says (address in use, not this host's)."""

    def __init__(self, *, listen: str, reason: str) -> None:
        self.listen = listen
        self.reason = reason
        super().__init__(f"web.listen = {listen!r}: cannot listen there: {reason}")


class FeedbackRequestError(WebError):
    """A feedback request the page cannot pass on; ``status`` is the HTTP status to answer."""

    def __init__(self, reason: str, *, status: int = 400) -> None:
        self.reason = reason
        self.status = status
        super().__init__(reason)
