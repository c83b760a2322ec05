"""Sub-commands of ``vagus``: one module each, found by `vagus.cli`.

A command module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(args) -> int`` (the exit code).
"""
