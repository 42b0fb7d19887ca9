"""Exceptions that separate the user's mistakes from ours.

The CLI turns every :class:`GanzooError` into one line on stderr and exit code 2 (bad input), so no
user ever sees a traceback for a typo; anything else is a bug and exits 1 with its traceback.
"""

from __future__ import annotations


class GanzooError(Exception):
    """Bad input: a recipe, an argument, a file. Shown as one line, exit code 2."""

    exit_code = 2


class RecipeError(GanzooError):
    """A recipe field is wrong; the message names the file, the field path, the value and what is allowed."""

    def __init__(self, source: str, path: str, message: str) -> None:
        self.source, self.path, self.detail = source, path, message
        where = f"{source}: " if source else ""
        field = f"{path}: " if path else ""
        super().__init__(f"{where}{field}{message}")


class UnknownComponentError(GanzooError, KeyError):
    """A name that no plugin registered; the message offers the closest names."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class DuplicateComponentError(GanzooError):
    """Two plugins registered the same name without saying that one overrides the other."""


class ComponentError(GanzooError):
    """A plugin's component cannot be used as registered: a factory string naming a missing module or
    attribute, an ``info`` that raised. The message names the component, its plugin and what is wrong."""


class PluginLoadError(GanzooError):
    """A plugin failed to load while ``GANZOO_STRICT_PLUGINS=1`` asked for strictness."""


class WeightsError(GanzooError):
    """A weights file that cannot be read, or does not fit what was asked of it."""


class RunFolderError(GanzooError):
    """A run folder that cannot be used: not a folder, read-only, full, or held by another run."""


class TrainingError(GanzooError):
    """Training cannot go on (a non-finite loss, say); the last good checkpoint is kept."""
