"""The warning category of evaluation: figures that are computed but should not be trusted as they are.

``ganzoo eval`` shows each as one ``ganzoo: warning:`` line (and lists them in ``--json`` output); in
Python they are ordinary warnings that a caller can filter or turn into errors.
"""

from __future__ import annotations

import warnings


class EvaluationWarning(UserWarning):
    """A figure was computed under conditions that bias it (too few samples, a grid edge reached...)."""


def warn(message: str) -> None:
    warnings.warn(message, EvaluationWarning, stacklevel=3)
