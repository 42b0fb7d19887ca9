"""Self-describing weights: safetensors files whose metadata says how to rebuild the module.

A generator file carries the component name and plugin, its constructor options, the data's shape and
classes, the recipe and the ganzoo version (``ganzoo.*`` keys, JSON strings), so
``ganzoo sample model.safetensors --class 3`` works with nothing else at hand. Loading never unpickles.

A weights file may come from anyone, so its metadata is validated like a recipe (one line naming the key),
its tensors must be finite, and it never decides anything on the reader's machine: the component is looked
up among the installed plugins by name (nothing is imported because a file says so), and the embedded recipe
is information only (``ganzoo eval`` takes data locations from the user, never from the file). Files are
written deterministically (sorted metadata, canonical header), so identical runs give identical bytes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import attrs
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save
from torch import nn

from ganzoo import contracts
from ganzoo.__about__ import __version__
from ganzoo.atomic import write_atomic
from ganzoo.errors import GanzooError, RecipeError, WeightsError
from ganzoo.options import option, options_class, parse_options
from ganzoo.run_folder import weights_file

PREFIX = "ganzoo."
MAX_SAMPLE_VALUES = 1 << 26  # one sample of at most 64 Mi values (3 x 4096 x 4096 is 48 Mi)
MAX_PARAMETERS = 1 << 30  # values in one module's state (4 GB as float32), checked before it is built
UNITS_MAX = 1e30  # |scale| and |offset| of the data units: beyond, float32 samples overflow to inf


@options_class
class _Units:
    scale: float = option(help="data units per model unit")
    offset: float = option(0.0)


@options_class
class _CardSchema:
    """What each ``ganzoo.*`` metadata key may hold (the JSON value); checked before anything is built."""

    role: Literal["generator", "generator-ema", "discriminator"] = option()
    component: str | None = option(None)
    plugin: str | None = option(None)
    options: dict = option(help="the component's options")  # type: ignore[type-arg]
    shape: tuple[int, ...] = option(min=1, max=MAX_SAMPLE_VALUES)
    num_classes: int = option(min=0, max=1_000_000)
    latent_dim: int | None = option(None, min=1, max=1 << 20)
    step: int | None = option(None, min=0)
    recipe: dict | None = option(None)  # type: ignore[type-arg]
    version: str = option("?")
    units: _Units | None = option(None)
    label_prior: tuple[float, ...] | None = option(None, min=0, max=1)


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
    #: data units = model units * scale + offset (:attr:`ganzoo.DataInfo.units`); None: not recorded
    units: dict[str, float] | None = None
    #: set when the classes are clusters of the training data, not its labels (self-conditioning): each
    #: cluster's share of the training samples, the frequencies with which unconditional sampling draws them
    label_prior: tuple[float, ...] | None = attrs.field(default=None, converter=attrs.converters.optional(tuple))

    @property
    def clustered(self) -> bool:
        """Whether the classes are clusters: the model is then unconditional to every user and metric."""
        return self.label_prior is not None

    def to_metadata(self) -> dict[str, str]:
        data = attrs.asdict(self)
        data["shape"] = list(self.shape)
        if self.label_prior is None:  # written only when set: the files of models without clusters are unchanged
            del data["label_prior"]
        else:
            data["label_prior"] = list(self.label_prior)
        return {PREFIX + key: _stable_json(value) for key, value in sorted(data.items())}

    @classmethod
    def from_metadata(cls, metadata: dict[str, str], source: str) -> ModelCard:
        fields = {f.name for f in attrs.fields(cls)}
        data = {}
        for key, text in metadata.items():
            name = key.removeprefix(PREFIX)
            if key.startswith(PREFIX) and name in fields:
                try:
                    data[name] = json.loads(text, parse_constant=_no_constant)
                except (json.JSONDecodeError, ValueError, RecursionError):
                    raise WeightsError(f"{source}: metadata {key} is not valid JSON") from None
        missing = [name for name in ("role", "component", "options", "shape", "num_classes") if name not in data]
        if missing:
            raise WeightsError(f"{source}: not a ganzoo weights file (metadata lacks {PREFIX}{missing[0]})")
        checked = _check_card(data, source)
        return cls(**checked)

    def to_data_units(self, x: torch.Tensor) -> torch.Tensor:
        """Samples in model units (the generator's output) as the data's own units (identity if unrecorded)."""
        if not self.units:
            return x
        return x * float(self.units["scale"]) + float(self.units.get("offset", 0.0))


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _stable_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _check_card(data: dict[str, Any], source: str) -> dict[str, Any]:
    """The card's values held to :class:`_CardSchema` (null counts as omitted where a key may be absent)."""
    table = {key: value for key, value in data.items() if value is not None}
    for key in ("role", "options", "shape", "num_classes"):
        if data.get(key) is None:
            raise WeightsError(f"{source}: {PREFIX}{key}: got null; the key is required")
    try:
        card = parse_options(_CardSchema, table, source=source, path=PREFIX.rstrip("."))
    except RecipeError as err:
        raise WeightsError(str(err)) from None
    if not 1 <= len(card.shape) <= 4 or math.prod(card.shape) > MAX_SAMPLE_VALUES:
        raise WeightsError(
            f"{source}: {PREFIX}shape: got {list(card.shape)}; expected 1 to 4 sizes whose product is at most "
            f"{MAX_SAMPLE_VALUES}"
        )
    if card.units is not None and card.units.scale == 0:
        raise WeightsError(f"{source}: {PREFIX}units.scale: got 0; must be non-zero")
    for name in ("scale", "offset"):
        value = getattr(card.units, name, 0.0)
        if abs(value) > UNITS_MAX:
            raise WeightsError(f"{source}: {PREFIX}units.{name}: got {value:g}; must be between {-UNITS_MAX:g} and "
                               f"{UNITS_MAX:g} (larger ones overflow float32 samples)")
    prior = card.label_prior
    if prior is not None and (len(prior) != card.num_classes or abs(math.fsum(prior) - 1) > 1e-6):
        raise WeightsError(f"{source}: {PREFIX}label_prior: got {len(prior)} share(s) summing to "
                           f"{math.fsum(prior):g}; expected {card.num_classes} (one per class) summing to 1")
    checked = {f.name: getattr(card, f.name) for f in attrs.fields(_CardSchema)}
    checked["options"] = dict(card.options)
    checked["units"] = None if card.units is None else {"scale": card.units.scale, "offset": card.units.offset}
    if "version" not in data:
        checked["version"] = "?"
    return checked


def canonical_safetensors(tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> bytes:
    """safetensors bytes with a canonical header: its JSON with sorted keys and no spaces, so equal tensors and
    metadata always give equal bytes (the library writes the metadata map in an order that varies per process).
    The tensor data is the library's own, in its own (sorted) order; only the header text is rewritten."""
    raw = save(tensors, metadata=metadata)
    size = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + size])
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the format pads the header with spaces to keep the data aligned
    return len(text).to_bytes(8, "little") + text + raw[8 + size :]


def count_nonfinite(tensors: dict[str, torch.Tensor]) -> tuple[int, int, list[str]]:
    """Non-finite values, all values, and the names of the tensors that hold any, over the float tensors."""
    bad, total, names = 0, 0, []
    for name in sorted(tensors):
        tensor = tensors[name]
        if not tensor.is_floating_point():
            continue
        total += tensor.numel()
        here = int((~torch.isfinite(tensor)).sum())
        if here:
            bad += here
            names.append(name)
    return bad, total, names


def save_weights(module: nn.Module, path: str | Path, card: ModelCard,
                 extra: Mapping[str, str] | None = None) -> Path:
    """Write ``module``'s state as safetensors with ``card`` in the metadata, atomically: the one writer of
    weights files. ``extra``: further ``ganzoo.*`` metadata entries (keep-best's ``ganzoo.best``)."""
    state = {key: value.detach().cpu().contiguous() for key, value in module.state_dict().items()}
    metadata = {**card.to_metadata(), **(extra or {})}
    return write_atomic(path, lambda tmp: write_file(tmp, canonical_safetensors(state, metadata)))


def write_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (a temporary file of :func:`ganzoo.atomic.write_atomic`)."""
    with open(path, "wb") as handle:
        handle.write(data)


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
    """A weights file, or the best one in a run directory (the EMA generator when there is one), or the
    generator of a Hub repository id (``user/name[@revision]``) that names nothing here."""
    from ganzoo.hub import hub_weights

    path = hub_weights(path, role) or Path(path)
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
    from ganzoo.components import DataInfo

    problem = component.validate_for(options, DataInfo(card.shape, card.num_classes), card.num_classes > 0)
    if problem:
        raise WeightsError(f"{source}: {PREFIX}shape/num_classes do not fit {component.label}: {problem}")
    factory = component.load_factory()
    try:
        module = factory(options, shape=card.shape, num_classes=card.num_classes)
    except GanzooError:
        raise
    except Exception as err:  # the file's metadata asked for something the component cannot build
        raise WeightsError(
            f"{source}: {component.label} cannot be built from this file's metadata ({type(err).__name__}: {err})"
        ) from None
    if kind == "generator":  # latent_dim is the generator contract's, as conformance checks it
        if not isinstance(module, contracts.Generator):
            raise WeightsError(f"{source}: {component.label} builds a generator without latent_dim or num_classes "
                               "(see ganzoo.contracts.Generator)")
        if card.latent_dim != int(module.latent_dim):
            raise WeightsError(f"{source}: {PREFIX}latent_dim: got {card.latent_dim!r}; "
                               f"the generator takes {module.latent_dim!r}")
    return module


def planned_state(card: ModelCard, source: str) -> dict[str, torch.Tensor] | None:
    """The state the card's module would have, built on the ``meta`` device: names, shapes and dtypes with
    no memory behind them, so a small file whose metadata asks for a huge module is refused before anything
    is allocated. None when the component cannot be built that way (the real build then says what it says)."""
    try:
        with torch.device("meta"):
            return dict(build_from_card(card, source).state_dict())
    except Exception:  # noqa: BLE001 - a component that needs real tensors to build: checked after building
        return None


def check_fit(tensors: dict[str, torch.Tensor], planned: dict[str, torch.Tensor] | None, card: ModelCard,
              path: Path) -> None:
    """The file's tensors against the module its metadata describes: sizes, names, shapes and kinds of
    value, each named in one line; no tensor is ever cast from another kind (int8, complex) in silence."""
    for name in sorted(tensors):
        if tensors[name].is_complex():
            raise WeightsError(f"{path}: tensor {name!r} is {tensors[name].dtype}; weights are real numbers")
    if planned is None:
        return
    size = sum(t.numel() for t in planned.values())
    if size > MAX_PARAMETERS:
        raise WeightsError(f"{path}: its metadata ({PREFIX}options, shape, num_classes) describes a "
                           f"{card.component!r} of {size:,} values; at most {MAX_PARAMETERS:,} are loaded")
    missing, extra = sorted(set(planned) - set(tensors)), sorted(set(tensors) - set(planned))
    if missing or extra:
        what = f"lacks {missing[0]!r}" if missing else f"holds {extra[0]!r}, which it has not"
        raise WeightsError(f"{path}: weights do not fit {card.component!r} as its metadata describes it: the file "
                           f"{what} ({len(missing)} missing, {len(extra)} unexpected)")
    for name in sorted(planned):
        want, got = planned[name], tensors[name]
        if tuple(want.shape) != tuple(got.shape):
            raise WeightsError(f"{path}: tensor {name!r} has shape {list(got.shape)}; {card.component!r} as its "
                               f"metadata describes it takes {list(want.shape)}")
        if _kind(want) != _kind(got):
            raise WeightsError(f"{path}: tensor {name!r} is {got.dtype}; {card.component!r} takes {_kind(want)} "
                               f"values there ({want.dtype}); nothing is cast")


def _kind(tensor: torch.Tensor) -> str:
    if tensor.dtype == torch.bool:
        return "boolean"
    return "floating-point" if tensor.is_floating_point() else "complex" if tensor.is_complex() else "integer"


def load_module(path: str | Path, role: str = "generator") -> tuple[nn.Module, ModelCard]:
    """Rebuild and load the module in a weights file (or run directory), in eval mode."""
    path = find_weights(path, role)
    tensors, card = read_weights(path)
    roles = ("generator", "generator-ema") if role == "generator" else (role,)
    if card.role not in roles:  # a discriminator file given where a generator is wanted, say
        raise WeightsError(f"{path}: holds a {card.role}'s weights, not a {role}'s")
    bad, total, names = count_nonfinite(tensors)
    if bad:
        raise WeightsError(
            f"{path}: {bad:,} of {total:,} weights are not finite (nan or inf), in {len(names)} tensor(s), first "
            f"{names[0]!r}; the run diverged: sample from an earlier checkpoint or retrain"
        )
    check_fit(tensors, planned_state(card, str(path)), card, path)
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
