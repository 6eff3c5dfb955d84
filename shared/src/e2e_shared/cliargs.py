"""Checks of task arguments, so that a typo is one line with the next step, never a traceback.

Invoke converts an option with an ``int`` default itself and gives a traceback on ``-n abc``:
numeric options therefore default to ``None`` in ``tasks.py`` and are read here.
"""

from __future__ import annotations

from . import E2EError


def count(value: object, *, option: str, default: int, minimum: int = 1, usage: str = "") -> int:
    """``value`` (text from the command line, or ``None``) as a whole number >= ``minimum``."""
    if value is None:
        return default
    text = str(value).strip()
    example = usage or f"{option} {max(default, minimum)}"
    try:
        number = int(text)
    except ValueError:
        raise E2EError(f"{option} {text!r} is not a whole number",
                       f"give a number, e.g. {example}") from None
    if number < minimum:
        raise E2EError(f"{option} {number} is too small: it must be {minimum} or more",
                       f"give a number, e.g. {example}")
    return number
