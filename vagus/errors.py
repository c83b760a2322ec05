"""Errors the CLI reports as one line and exit code 2 (a user's mistake, not a bug)."""


class UserError(Exception):
    """Bad input or config: the message says what is wrong and what is allowed."""
