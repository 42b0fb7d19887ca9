"""Generators named by a Hugging Face Hub repository id (``user/name``, ``user/name@revision``).

``ganzoo export`` writes a folder a Hub model repository holds as it is; this module reads one back. Only
the one safetensors file is fetched, through huggingface_hub's cache (``hf_hub_download``): no pickle, no code
from the repository, nothing else of it. With ``HF_HUB_OFFLINE=1`` the cache alone answers. A name that is
neither a local path nor such a repository is one line. Torch-free, so the CLI can ask before torch loads.
"""

from __future__ import annotations

import re
from pathlib import Path

from ganzoo.errors import WeightsError

#: ``owner/name`` as the Hub spells repository ids, with an optional ``@revision`` (branch, tag or commit)
REPO_ID = re.compile(r"^(?P<repo>[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*)(?:@(?P<revision>[\w./-]+))?$")
#: names ending so are files, never repositories (``runs/x/generator.safetensors`` that is not there)
FILE_SUFFIXES = (".safetensors", ".pth", ".pt", ".bin", ".ckpt", ".npy", ".png")
#: the file an exported folder holds the generator in (the EMA one when the run had it)
GENERATOR_FILE = "generator.safetensors"


def parse_repo_id(text: str) -> tuple[str, str | None] | None:
    """``(repo_id, revision)`` when ``text`` reads as a Hub repository id, else None."""
    found = REPO_ID.match(text)
    if not found or ".." in text or found["repo"].lower().endswith(FILE_SUFFIXES):
        return None
    return found["repo"], found["revision"]


def is_repo_id(text: str) -> bool:
    """Whether ``text`` could name a Hub repository: shaped like one, and neither a local path nor inside a
    local folder (``runs/typo`` is a missing run folder, not user ``runs``'s repository)."""
    path = Path(text.partition("@")[0])
    return not Path(text).exists() and not path.parent.is_dir() and parse_repo_id(text) is not None


def hub_weights(name: str | Path, role: str = "generator") -> Path | None:
    """The local path of repository ``name``'s generator file, fetched into (or found in) the Hub cache;
    None when ``name`` exists locally or is not shaped like a repository id."""
    text = str(name)
    parsed = parse_repo_id(text) if is_repo_id(text) else None
    if parsed is None:
        return None
    if role != "generator":
        raise WeightsError(f"{text}: a Hub repository exported by ganzoo holds the generator only, not a {role}")
    repo_id, revision = parsed
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        raise WeightsError(f"{text}: loading by Hub repository id needs huggingface_hub: pip install huggingface_hub") \
            from None
    try:
        return Path(hf_hub_download(repo_id, GENERATOR_FILE, revision=revision, repo_type="model"))
    except Exception as err:  # not cached offline, no such repository, revision or file, no network: one line
        raise WeightsError(
            f"{text}: no such weights file or run directory here, and no {GENERATOR_FILE} of Hub repository "
            f"{repo_id}{'@' + revision if revision else ''} in the local cache or online ({type(err).__name__})"
        ) from None
