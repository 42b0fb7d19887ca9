"""What a metric computes from: the generator, its card, the data it was trained on, and the settings.

The card's recipe names the dataset and its options, so real data (either split) can be rebuilt through
the registries with nothing else at hand. A weights file read from disk may come from anyone, so its recipe is
information only: the dataset's machine-local options (``option(local=True)``: data folders, downloads) are
never taken from it; they take their documented defaults or what the user gives (``ganzoo eval --data``). Generated samples and real data are memoised on the context:
several metrics in one evaluation share them instead of drawing them again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganzoo import contracts
from ganzoo.components import Component, DataInfo
from ganzoo.errors import GanzooError
from ganzoo.evaluation.cache import cache_dir as default_cache_dir
from ganzoo.sampling import draw
from ganzoo.options import drop_local_options, local_fields
from ganzoo.run_folder import RunFolder
from ganzoo.weights import ModelCard, load_module

SPLIT_OFFSET = {"train": 1, "test": 2, "validation": 3}


def resolve_device(device: torch.device | str | None) -> torch.device:
    """``None`` or ``"auto"``: the GPU when there is one, else the CPU."""
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class EvalContext:
    """Handed to ``metric.compute(context)``.

    Attributes: ``generator`` (an ``nn.Module``, ``G(z, c)``), ``card`` (its :class:`ModelCard`), ``n``
    (generated samples to use), ``seed`` (of the noise and of any sampled real data), ``device``,
    ``cache_dir`` (where metrics keep what they train once), ``batch_size`` (for generation and features).
    Properties ``dataset_name``, ``dataset_options``, ``data_info`` come from the card's recipe (None when
    the weights carry no recipe). Methods ``samples()``, ``real(split)`` and ``dataset(split)`` give data.
    """

    def __init__(
        self,
        generator: nn.Module,
        card: ModelCard,
        *,
        n: int = 2500,
        seed: int = 0,
        device: torch.device | str | None = None,
        cache_dir: str | Path | None = None,
        batch_size: int = 500,
        source: str = "",
        data_options: dict[str, Any] | None = None,
        trust_recipe: bool = False,
        discriminator: nn.Module | None = None,
    ) -> None:
        self.generator, self.card = generator, card
        self.n, self.seed, self.batch_size = int(n), int(seed), int(batch_size)
        self.device = resolve_device(device)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.source = source or "generator"
        # trust_recipe=False (the default: a card read from a file someone handed over): the card's
        # machine-local data options (folders, downloads) are ignored and data_options (the user's) fill them
        # in; True only for a card this process built from the user's own recipe (evaluation during training)
        self.data_options = dict(data_options or {})
        self.trust_recipe = bool(trust_recipe)
        self._component: Component | None = None
        self._options: Any = None
        self._datasets: dict[str, Any] = {}
        self._real: dict[tuple[str, int | None], tuple[torch.Tensor, torch.Tensor | None]] = {}
        self._samples: dict[int, tuple[torch.Tensor, torch.Tensor | None]] = {}
        # the live D of an evaluation during training; else the run's file, read when a metric asks for it
        self._discriminator: nn.Module | None = discriminator
        self._discriminator_read = discriminator is not None

    @classmethod
    def from_weights(cls, path: str | Path, **settings: Any) -> EvalContext:
        """Load the generator of a weights file or run directory (the EMA one when present)."""
        from ganzoo.weights import find_weights, load_generator

        found = find_weights(path)
        settings.setdefault("source", str(found))
        settings["trust_recipe"] = False  # the file decides no path, download or import here
        generator = load_generator(found)
        device = resolve_device(settings.pop("device", None))
        return cls(generator.to(device), generator.card, device=device, **settings)

    # ------------------------------------------------------------------ what the card says
    @property
    def num_classes(self) -> int:
        """Classes the generator is conditioned on (0: unconditional)."""
        return int(self.card.num_classes)

    @property
    def conditional(self) -> bool:
        """Whether samples come per class of the data: not for a self-conditioned generator, whose classes are
        clusters (it samples them by their frequencies and is judged as an unconditional model)."""
        return self.num_classes > 0 and not self.card.clustered

    @property
    def dataset_table(self) -> dict[str, Any] | None:
        recipe = self.card.recipe or {}
        data = recipe.get("data")
        return dict(data) if isinstance(data, dict) and data.get("name") else None

    @property
    def dataset_name(self) -> str | None:
        table = self.dataset_table
        return None if table is None else str(table["name"])

    def _dataset_component(self) -> Component:
        if self._component is None:
            from ganzoo.registry import registries

            name = self.require_dataset()
            try:
                self._component = registries().component("dataset", name)
            except GanzooError as err:
                raise GanzooError(f"{self.source}: trained on dataset {name!r}, which is not available: {err}") \
                    from None
            table = {k: v for k, v in (self.dataset_table or {}).items() if k != "name"}
            options_class = self._component.options
            if not self.trust_recipe:
                table = drop_local_options(options_class, table)
            table.update(self.data_options)
            missing = sorted(local_fields(options_class) - set(table) - _defaulted(options_class))
            if missing:
                raise GanzooError(
                    f"{self.source}: trained on {name!r}, whose data.{missing[0]} is never taken from a weights "
                    f"file; say where the data is on this machine with --data {missing[0]}=VALUE"
                )
            self._options = self._component.parse(table, source=self.source, path="data")
        return self._component

    def _check_data_fits(self, name: str) -> None:
        """The data, as the user's --data options make it, holds samples of the generator's shape (and its
        classes): figures against other data are meaningless, and a bigger image size costs memory for nothing.
        Checked from the dataset's info, before anything is loaded."""
        info = self._component.data_info(self._options)  # type: ignore[union-attr]
        shape, classes = tuple(info.shape), int(info.num_classes)
        if shape == tuple(self.card.shape) and (not self.conditional or classes == self.num_classes):
            return
        given = " ".join(f"--data {k}={v}" for k, v in self.data_options.items())
        what = (f"samples of shape {list(shape)}" if shape != tuple(self.card.shape)
                else f"{classes} classes (the generator has {self.num_classes})")
        raise GanzooError(f"{self.source}: the data {name!r}{' with ' + given if given else ''} has {what}; the "
                          f"generator makes {list(self.card.shape)}: evaluate against the data it was trained on")

    @property
    def dataset_options(self) -> Any:
        """The dataset's parsed options (as the recipe gave them), or None without a recipe."""
        if self.dataset_name is None:
            return None
        self._dataset_component()
        return self._options

    @property
    def data_info(self) -> DataInfo | None:
        """Shape and classes of the real data, without loading it; None without a recipe."""
        if self.dataset_name is None:
            return None
        return self._dataset_component().data_info(self.dataset_options)

    def discriminator(self) -> nn.Module | None:
        """The run's discriminator, for metrics that read what D learnt (InfoGAN's Q head): during training the
        live one (a metric that switches it to eval mode switches it back), else the file beside the generator's
        weights, loaded once, on the device. None where there is none (weights handed over alone)."""
        if not self._discriminator_read:
            self._discriminator_read = True
            source = Path(self.source)
            found = RunFolder(source.parent).weights("discriminator") if source.is_file() else None
            if found is not None and found.is_file():
                self._discriminator = load_module(found, role="discriminator")[0].to(self.device).eval()
        return self._discriminator

    def require_dataset(self) -> str:
        """The dataset's name, or a clear error when the weights do not say what they were trained on."""
        name = self.dataset_name
        if name is None:
            raise GanzooError(
                f"{self.source}: the weights carry no recipe, so the training data is unknown; "
                "this metric needs real data (train through a recipe, or pass a card with one)"
            )
        return name

    def describe(self) -> str:
        """``mlp generator (conditional, 10 classes) on ring8`` for headings and messages."""
        kind = (f"conditional, {self.num_classes} classes" if self.conditional
                else f"self-conditioned on {self.num_classes} clusters" if self.num_classes else "unconditional")
        data = self.dataset_name or "unknown data"
        return f"{self.card.component or 'unregistered'} generator ({kind}) on {data}"

    # ------------------------------------------------------------------ data
    def samples(
        self, n: int | None = None, labels: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``n`` (default ``self.n``) generated samples on the CPU and their labels; memoised unless ``labels``
        are given (a conditional generator otherwise gets every class in equal blocks: :mod:`ganzoo.sampling`)."""
        n = int(n or self.n)
        if labels is not None:
            return self._generate(n, labels)
        if n not in self._samples:
            self._samples[n] = self._generate(n, None)
        return self._samples[n]

    def _generate(self, n: int, labels: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        x, c = draw(
            self.generator, n, seed=self.seed, labels=labels, latent_dim=self.card.latent_dim,
            num_classes=self.num_classes, device=self.device, batch_size=self.batch_size, prior=self.card.label_prior,
        )
        bad = int((~torch.isfinite(x.flatten(1))).any(dim=1).sum()) if x.numel() else 0
        if bad:  # figures from nan samples would read as "0 modes" or nan, with no word of why
            raise GanzooError(
                f"{self.source}: {bad} of {n} generated samples are not finite (nan or inf); the generator is "
                "degenerate (a diverged run): evaluate an earlier checkpoint"
            )
        return x, c

    def dataset(self, split: str = "train") -> Any:
        """The dataset object the recipe names, for ``split`` ("train" or "test"), built once."""
        if split not in self._datasets:
            component = self._dataset_component()
            problem = component.problem_with_data(self.dataset_options)  # a few file look-ups: where it reads
            if problem:
                raise GanzooError(problem)
            self._check_data_fits(component.name)  # before the data is read (and resized) into memory
            self._datasets[split] = component.build(self.dataset_options, split=split)
        return self._datasets[split]

    def real(self, split: str = "train", n: int | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Real data of ``split`` on the CPU: the whole split (or a seeded subset of ``n``) of a finite set,
        ``n`` (default ``self.n``) seeded fresh draws of an endless source. ``split="validation"`` of an
        endless source is a third independent draw; finite sets have no validation split here."""
        key = (split, n)
        if key not in self._real:
            self._real[key] = self._load_real(split, n)
        return self._real[key]

    def _load_real(self, split: str, n: int | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        data = self.dataset("train" if split == "validation" else split)
        form = contracts.data_form(data)
        if form == "sample":
            noise = torch.Generator().manual_seed(self.seed * 1_000_003 + SPLIT_OFFSET[split] * 7919)
            x, y = data.sample(int(n or self.n), noise)
            return x.float().cpu(), None if y is None else y.cpu()
        if split == "validation":
            raise ValueError("a finite dataset has no validation split; hold out part of 'train' instead")
        if form == "tensors":
            x, y = data.tensors()
        else:
            x, y = _stack(data)
        x, y = x.float().cpu(), None if y is None else y.cpu()
        if n is not None and n < len(x):
            keep = torch.randperm(len(x), generator=torch.Generator().manual_seed(self.seed))[:n]
            x, y = x[keep], None if y is None else y[keep]
        return x, y


def _defaulted(options_class: type) -> set[str]:
    import attrs

    return {f.name for f in attrs.fields(options_class) if f.default is not attrs.NOTHING}


def _stack(data: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Every item of a torch ``Dataset`` (yielding ``x`` or ``(x, c)``) stacked into tensors."""
    from torch.utils.data import DataLoader

    xs, ys = [], []
    for batch in DataLoader(data, batch_size=256, shuffle=False):
        if isinstance(batch, (list, tuple)):
            xs.append(batch[0])
            ys.append(torch.as_tensor(batch[1]))
        else:
            xs.append(batch)
    if not xs:
        raise GanzooError("the dataset is empty")
    return torch.cat(xs), (torch.cat(ys).long() if ys else None)
