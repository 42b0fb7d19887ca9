"""``ganzoo new-plugin``: render a ready-to-edit plugin package from the templates beside this module.

The templates (``templates/*.tmpl``, ``string.Template`` syntax) ship inside the ganzoo wheel and are read
with :mod:`importlib.resources`. Everything is rendered in memory first, so a failure writes nothing.
Torch-free, like every light command.
"""

from __future__ import annotations

import importlib.util
import keyword
import os
import re
import shutil
import string
import sys
import tempfile
from importlib import metadata, resources
from pathlib import Path

import attrs

from ganzoo.__about__ import DISTRIBUTION, __version__
from ganzoo.errors import GanzooError
from ganzoo.plugins import GROUP

# template file (under templates/, less ".tmpl") -> path in the new package
FILES = {
    "pyproject.toml": "pyproject.toml",
    "README.md": "README.md",
    "__init__.py": "${module}/__init__.py",
    "options.py": "${module}/options.py",
    "models.py": "${module}/models.py",
    "regularizers.py": "${module}/regularizers.py",
    "test_plugin.py": "tests/test_${module}.py",
}

NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_][A-Za-z0-9]+)*")
NAME_RULE = "letters, digits, '-' and '_', starting with a letter (e.g. ganzoo-tiny-gan)"
# folder names a package must not take, besides ganzoo's own modules (:func:`reserved`)
RESERVED = frozenset({"ganzoo", "tests", "test", "docs"})


def reserved() -> frozenset[str]:
    """The module names a new plugin may not take: ganzoo's, and those of the built-in plugins, read from the
    entry points ganzoo's distribution declares (so a new built-in is reserved without a list to keep)."""
    try:
        points = metadata.distribution(DISTRIBUTION).entry_points
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        return RESERVED
    return RESERVED | {ep.value.partition(":")[0].split(".")[0] for ep in points if ep.group == GROUP}


@attrs.frozen
class PluginNames:
    """Every name the new package uses, derived from the one the user gave."""

    distribution: str  # ganzoo-tiny-gan: what pip installs
    module: str  # ganzoo_tiny_gan: the import name
    short: str  # tiny-gan: the entry-point name and the generator's registered name
    camel: str  # TinyGan: prefix of the class names

    def substitutions(self) -> dict[str, str]:
        return {**attrs.asdict(self), "ganzoo_requirement": ganzoo_requirement(), "ganzoo_version": __version__}


def plugin_names(name: str) -> PluginNames:
    """Validate NAME and derive the package's names; a :class:`GanzooError` (one line, exit 2) if it will not do."""
    if len(name) > 64 or not NAME_PATTERN.fullmatch(name):
        raise GanzooError(f"bad plugin name {name!r}: use {NAME_RULE}")
    distribution = name.lower().replace("_", "-")
    module = distribution.replace("-", "_")
    short = distribution.removeprefix("ganzoo-")
    if module in reserved() or keyword.iskeyword(module) or module in sys.stdlib_module_names:
        raise GanzooError(f"bad plugin name {name!r}: {module!r} is taken (a Python keyword, standard "
                          "library or ganzoo module); pick another")
    try:
        taken = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        taken = True
    if taken:
        raise GanzooError(f"bad plugin name {name!r}: a module named {module!r} is already importable here; "
                          "pick another")
    clash = _installed_name(short)
    if clash:
        raise GanzooError(f"bad plugin name {name!r}: {short!r} is already {clash}; pick another")
    camel = "".join(part.capitalize() for part in short.split("-"))
    if not camel[0].isalpha():
        camel = "Plugin" + camel
    return PluginNames(distribution=distribution, module=module, short=short, camel=camel)


def _installed_name(short: str) -> str | None:
    """What an installed plugin already calls ``short`` (its entry point or a generator), if anything."""
    if short in {ep.name for ep in metadata.entry_points(group=GROUP)}:
        return "the name of an installed plugin"
    from ganzoo.registry import registries

    try:
        generators = registries()["generator"]
    except GanzooError:  # a clash among installed plugins is not this command's business
        return None
    return "a registered generator" if short in generators else None


def ganzoo_requirement(version: str = __version__) -> str:
    """The versions a new plugin declares it works with: this release series (``pyganzoo>=0.1,<0.2``), under
    ganzoo's name on the package index (``ganzoo`` there is another project)."""
    major, minor = (int(part) for part in re.findall(r"\d+", version)[:2])
    upper = f"0.{minor + 1}" if major == 0 else f"{major + 1}"
    return f"{DISTRIBUTION}>={major}.{minor},<{upper}"


def render(names: PluginNames) -> dict[str, str]:
    """Relative path -> text of every file of the new package."""
    values = names.substitutions()
    folder = resources.files(__name__).joinpath("templates")
    files = {}
    for template, target in FILES.items():
        text = folder.joinpath(f"{template}.tmpl").read_text(encoding="utf-8")
        files[string.Template(target).substitute(values)] = string.Template(text).substitute(values)
    return files


def write_plugin(name: str, target: Path | None = None) -> tuple[PluginNames, Path, list[Path]]:
    """Create the package for NAME in ``target`` (default ``./NAME``), which must be missing or empty."""
    names = plugin_names(name)
    target = Path(target) if target is not None else Path(name)
    if target.exists() and not target.is_dir():
        raise GanzooError(f"{target}: exists and is not a folder; pick another --dir")
    if target.is_dir() and any(target.iterdir()):
        raise GanzooError(f"{target}: exists and is not empty; pick another --dir or remove it")
    files = render(names)
    try:
        _write_whole(target, files)
    except OSError as err:
        raise GanzooError(f"{target}: cannot write the package: {err.strerror or err}; nothing was left behind: "
                          "free space or fix permissions, or pick another --dir") from None
    return names, target, [target / relative for relative in files]


def _write_whole(target: Path, files: dict[str, str]) -> None:
    """Every file into a hidden folder beside ``target``, then one rename: a full disk or a failed write
    leaves no half-written package (the folder is removed), only the whole one or nothing."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        for relative, text in files.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        staging.chmod(0o777 & ~_umask())  # mkdtemp's folder is private; the package is the user's as any other
        os.replace(staging, target)  # onto a missing or empty folder, in one step
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
