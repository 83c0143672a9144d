"""Errors a user can act on.

Every error the toolkit raises on purpose derives from :class:`InpaintbenchError`;
its message is one line that names the thing at fault and the fix.  The CLI prints
that line (no traceback) and exits with status 2.
"""

from __future__ import annotations


class InpaintbenchError(Exception):
    """Base class: ``str(error)`` is a complete one-line explanation."""


class UnknownNameError(InpaintbenchError, KeyError):
    """A method, dataset or mask protocol name that is not registered."""

    def __init__(self, kind: str, name: str, known: list[str]):
        import difflib

        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        super().__init__(f"unknown {kind} {name!r}{hint} (known: {', '.join(sorted(known)) or 'none'})")
        self.name = name

    def __str__(self) -> str:  # KeyError would add quotes around the message
        return self.args[0]


class DuplicateNameError(InpaintbenchError):
    """Two plugins registered the same name; neither silently wins."""


class PluginError(InpaintbenchError):
    """A plugin failed to import, to register, or raised while running."""


class DatasetError(InpaintbenchError):
    """A dataset root that is missing, or does not have the expected layout."""


class ImageReadError(InpaintbenchError):
    """One image that cannot be decoded; the runner reports it and skips the item."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"cannot read image {path}: {reason}")
        self.path = path
        self.reason = reason


class CheckpointError(InpaintbenchError):
    """A checkpoint that is missing, truncated, corrupted or from another method."""


class ResultsError(InpaintbenchError):
    """A results directory that does not match the run being resumed."""


class MethodOutputError(InpaintbenchError):
    """A method returned something that is not a completed uint8 image batch."""


def one_line(error: BaseException) -> str:
    """``TypeName: first line of the message``: how a plugin's unexpected error is reported and logged."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")
