"""Keep passwords out of output: every secret djreset reads is registered here.

Everything djreset prints, and every error message it shows, goes through
:func:`mask`, so a password cannot leak through a log line or an exception
that happens to quote it.
"""
from __future__ import annotations

MASK = "********"
_known: set[str] = set()


class Secret(str):
    """A string that is a secret: it prints as a mask, but works as a value."""

    def __new__(cls, value: str) -> "Secret":
        if value:
            _known.add(value)
        return super().__new__(cls, value)

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def reveal(self) -> str:
        return str.__str__(self)


def register(value: str | None) -> None:
    if value:
        _known.add(str(value))


def mask(text: str) -> str:
    """Replace every known secret in ``text`` with the mask."""
    # Longest first, so a secret that contains another is masked whole.
    for secret in sorted(_known, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
