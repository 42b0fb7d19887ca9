"""Self-describing weights: safetensors files whose metadata says how to rebuild the module.

A generator file carries the component name and plugin, its constructor options, the data's shape and
classes, the recipe and the ganzoo version (``ganzoo.*`` keys, JSON strings), so
``ganzoo sample model.safetensors --class 3`` works with nothing else at hand. Loading never unpickles.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import nn

from ganzoo.__about__ import __version__
from ganzoo.atomic import write_atomic
from ganzoo.errors import GanzooError, WeightsError
from ganzoo.run_folder import weights_file

PREFIX = "ganzoo."


@attrs.frozen
class ModelCard:
    """What a weights file says about its module."""

    role: str  # generator, generator-ema, discriminator
    component: str | None  # registry name, None for a module ganzoo cannot rebuild
    plugin: str | None
    options: dict[str, Any]
    shape: tuple[int, ...]
    num_classes: int
    latent_dim: int | None = None
    step: int | None = None
    recipe: dict[str, Any] | None = None
    version: str = __version__

    def to_metadata(self) -> dict[str, str]:
        data = attrs.asdict(self)
        data["shape"] = list(self.shape)
        return {PREFIX + key: json.dumps(value) for key, value in data.items()}

    @classmethod
    def from_metadata(cls, metadata: dict[str, str], source: str) -> ModelCard:
        fields = {f.name for f in attrs.fields(cls)}
        data = {}
        for key, text in metadata.items():
            name = key.removeprefix(PREFIX)
            if key.startswith(PREFIX) and name in fields:
                try:
                    data[name] = json.loads(text)
                except json.JSONDecodeError:
                    raise WeightsError(f"{source}: metadata {key} is not valid JSON") from None
        missing = [name for name in ("role", "component", "options", "shape", "num_classes") if name not in data]
        if missing:
            raise WeightsError(f"{source}: not a ganzoo weights file (metadata lacks {PREFIX}{missing[0]})")
        data["shape"] = tuple(data["shape"])
        return cls(**data)


def save_weights(module: nn.Module, path: str | Path, card: ModelCard) -> Path:
    """Write ``module``'s state as safetensors with ``card`` in the metadata, atomically."""
    state = {key: value.detach().cpu().contiguous() for key, value in module.state_dict().items()}
    return write_atomic(path, lambda tmp: save_file(state, str(tmp), metadata=card.to_metadata()))


def read_weights(path: str | Path) -> tuple[dict[str, torch.Tensor], ModelCard]:
    """Tensors and card of a weights file; a clear :class:`WeightsError` for anything else."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such weights file")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    except (SafetensorError, OSError, ValueError) as err:
        raise WeightsError(f"{path}: not a readable safetensors file ({err})") from None
    return tensors, ModelCard.from_metadata(metadata, str(path))


def find_weights(path: str | Path, role: str = "generator") -> Path:
    """A weights file, or the best one in a run directory (the EMA generator when there is one)."""
    path = Path(path)
    if path.is_dir():
        roles = ["generator-ema", "generator"] if role == "generator" else [role]
        names = [weights_file(path, r).name for r in roles]
        for candidate in roles:
            if weights_file(path, candidate).is_file():
                return weights_file(path, candidate)
        raise WeightsError(f"{path}: no {' or '.join(names)} in this folder; is it a finished ganzoo run?")
    return path


def build_from_card(card: ModelCard, source: str) -> nn.Module:
    """Rebuild the module a card describes through the registries."""
    from ganzoo.registry import registries

    if card.component is None:
        raise WeightsError(f"{source}: the module was not built from a registered component; load its state dict instead")
    kind = "discriminator" if card.role == "discriminator" else "generator"
    try:
        component = registries().component(kind, card.component)
    except GanzooError as err:
        raise WeightsError(f"{source}: made with {kind} {card.component!r} of plugin {card.plugin!r}: {err}") from None
    options = component.parse(card.options, source=source, path=f"{PREFIX}options")
    return component.load_factory()(options, shape=card.shape, num_classes=card.num_classes)


def load_module(path: str | Path, role: str = "generator") -> tuple[nn.Module, ModelCard]:
    """Rebuild and load the module in a weights file (or run directory), in eval mode."""
    path = find_weights(path, role)
    tensors, card = read_weights(path)
    roles = ("generator", "generator-ema") if role == "generator" else (role,)
    if card.role not in roles:  # a discriminator file given where a generator is wanted, say
        raise WeightsError(f"{path}: holds a {card.role}'s weights, not a {role}'s")
    module = build_from_card(card, str(path))
    try:
        module.load_state_dict(tensors, strict=True)
    except RuntimeError as err:
        first = str(err).strip().splitlines()
        raise WeightsError(f"{path}: weights do not fit {card.component!r}: {' '.join(first[:2])}") from None
    return module.eval(), card


def load_generator(path: str | Path) -> nn.Module:
    """The generator in a weights file or run directory, ready for ``G(z, c)``; see ``generator.card``."""
    module, card = load_module(path, "generator")
    module.card = card  # type: ignore[assignment]
    return module
