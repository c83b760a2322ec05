"""Vagus: heart-rate variability biofeedback daemon."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vagus")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
