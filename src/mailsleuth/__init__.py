"""mailsleuth: explain where an email really came from, who vouched for it, and whether to trust it.

The one entry point is :func:`mailsleuth.api.analyze`.
"""

from mailsleuth.version import __version__

__all__ = ["__version__"]
