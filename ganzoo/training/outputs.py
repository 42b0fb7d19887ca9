"""What a run writes and shows: an object the trainer calls, holding what that takes.

:class:`RunOutputs` owns the run folder (None: the run writes nothing), the models' cards, the observers,
the fixed noise every sample grid is drawn from, and which process writes. The trainer hands it what to
write (a row of figures, the generator to draw a grid from, the state to checkpoint) and asks it for what
to resume from; nothing here reads the trainer. Where each file goes is :mod:`ganzoo.run_folder`'s
business, how a checkpoint is stored (safetensors, no pickle) :mod:`~ganzoo.training.checkpoint`'s, how
samples are drawn :mod:`ganzoo.sampling`'s.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs
import torch
from torch import nn

from ganzoo import contracts
from ganzoo.errors import GanzooError
from ganzoo.metrics_log import MetricsLog
from ganzoo.run_folder import RunFolder
from ganzoo.sampling import class_labels, generate, latents
from ganzoo.training import artifacts, checkpoint, tracking
from ganzoo.weights import ModelCard, save_weights


def fixed_noise(seed: int, latent_dim: int, num_classes: int,
                grid_size: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The noise (and labels: one row per class) every sample grid of the run is drawn from."""
    per_row = max(1, grid_size // num_classes) if num_classes else grid_size
    n = (num_classes or 1) * per_row
    return latents(n, latent_dim, seed), class_labels(n, num_classes)


@torch.no_grad()
def sample_shape(data: Any, generator: nn.Module, z: torch.Tensor, c: torch.Tensor | None) -> tuple[int, ...]:
    """One sample's shape, from the data when it says so, else from G itself (in eval mode: no side effects)."""
    info = contracts.data_info(data)
    if info is not None:
        return tuple(info.shape)
    return tuple(generate(generator, z[:1], None if c is None else c[:1]).shape[1:])


def reference_points(data: Any, n: int, seed: int) -> torch.Tensor | None:
    """Real points to draw behind a scatter plot of 2-D samples, when the data can give them."""
    form = contracts.data_form(data)
    if form == "sample":
        return data.sample(n, torch.Generator().manual_seed(seed))[0]
    if form == "tensors":
        return data.tensors()[0][:n]
    return None


@attrs.define
class RunOutputs:
    """The files and observers of one run. ``accelerator`` says which process writes (the main one) and
    lets the others wait; ``progress`` shows lines to the user; ``reference(n)`` gives real points for
    scatter plots; ``default_card`` describes weights the caller gave no card for."""

    folder: RunFolder | None
    accelerator: Any
    fixed_z: torch.Tensor
    fixed_c: torch.Tensor | None
    progress: Any
    reference: Callable[[int], torch.Tensor | None]
    default_card: ModelCard
    cards: dict[str, ModelCard] = attrs.Factory(dict)
    observers: list[Any] = attrs.Factory(list)
    #: the data's units (DataInfo.units), for the card of a module built by ganzoo.build_* that has none
    data_units: dict[str, float] | None = None

    @classmethod
    def for_run(cls, folder: RunFolder | None, accelerator: Any, progress: Any, *, generator: nn.Module, data: Any,
                seed: int, latent_dim: int, num_classes: int, train: Any, cards: dict[str, ModelCard] | None,
                observers: list[Any]) -> RunOutputs:
        """The outputs of a run of ``generator`` on ``data``: the fixed grid noise drawn from ``seed``, the
        experiment trackers ``train.log_with`` names added to ``observers``."""
        main = accelerator.is_main_process
        observers = observers + tracking.for_trainer(train, None if folder is None else folder.path, cards or {}, main)
        z, c = fixed_noise(seed, latent_dim, num_classes, train.grid_size)
        z, c = z.to(accelerator.device), None if c is None else c.to(accelerator.device)
        card = ModelCard(role="generator", component=None, plugin=None, options={}, num_classes=num_classes,
                         shape=sample_shape(data, generator, z, c), latent_dim=latent_dim)
        info = contracts.data_info(data)
        return cls(folder, accelerator, z, c, progress, reference=lambda n: reference_points(data, n, seed),
                   default_card=card, cards=cards or {}, observers=observers,
                   data_units=None if info is None else info.units)

    @property
    def main(self) -> bool:
        return bool(self.accelerator.is_main_process)

    def prepare(self) -> None:
        """The run folder's subfolders, made by the main process before any other process writes there."""
        if self.folder is not None and self.main:
            self.folder.prepare()
        if self.folder is not None and self.accelerator.num_processes > 1:  # the others write checkpoint parts
            self.accelerator.wait_for_everyone()

    def notify(self, event: str, *args: Any) -> None:
        """Observers that want to know when a fit() starts (at which step: a resumed run's) and ends."""
        if self.main:
            for observer in self.observers:
                contracts.notify(observer, event, *args)

    def emit_row(self, row: dict[str, Any]) -> None:
        """Every row of figures passes here: onto the progress line, then (main process only) into
        metrics.jsonl and to each observer."""
        self.progress.log(row)
        if not self.main:
            return
        if self.folder is not None:
            MetricsLog(self.folder.metrics).append(row)
        self.notify("on_row", row)

    def save_samples(self, step: int, generator: nn.Module) -> Path | None:
        """The grid of the fixed noise at ``step`` into samples/ (main process); each observer sees it."""
        if self.folder is None or not self.main:
            return None
        samples = generate(generator, self.fixed_z, self.fixed_c, batch_size=len(self.fixed_z))
        reference = self.reference(len(samples) * 4) if samples.dim() == 2 else None
        path = artifacts.save_samples(samples, self.folder.sample_grid(step), reference=reference,
                                      rows=self.default_card.num_classes or None, title=f"step {step}")
        self.notify("on_samples", step, path, samples)
        return path

    def save_weights(self, step: int, models: Mapping[str, nn.Module]) -> None:
        """``generator.safetensors`` (and EMA, discriminator) with self-describing metadata."""
        assert self.folder is not None
        for role, module in models.items():
            card = self.cards.get("discriminator" if role == "discriminator" else "generator") or self.own_card(module)
            save_weights(module, self.folder.weights(role), attrs.evolve(card, role=role, step=step))

    def own_card(self, module: nn.Module) -> ModelCard:
        """The card ``ganzoo.build_generator`` / ``build_discriminator`` attached to the module (so a Trainer
        composed from Python writes weights that load again), else the default card."""
        built = contracts.card(module)
        if not isinstance(built, ModelCard):
            return self.default_card
        return attrs.evolve(built, units=built.units or self.data_units)

    def save_checkpoint(self, step: int, state: dict[str, Any], models: Mapping[str, nn.Module]) -> Path | None:
        """Checkpoint (atomic) plus the current weights; every process keeps its own random streams."""
        if self.folder is None:
            return None
        path = self.folder.checkpoint(step)
        if self.accelerator.num_processes > 1:
            mine = {"batches": state["batches"], "rng": state["rng"]}
            checkpoint.save_checkpoint(checkpoint.rank_part(path, self.accelerator.process_index), mine)
            self.accelerator.wait_for_everyone()
        if self.main:
            checkpoint.save_checkpoint(path, state)
            checkpoint.prune_checkpoints(self.folder.checkpoints)
            self.save_weights(step, models)
        return path

    def read_checkpoint(self, run_dir: str | Path | None) -> tuple[Path, dict[str, Any]]:
        """The newest readable checkpoint of ``run_dir`` (default: this run's), this process's part merged in."""
        folder = RunFolder(Path(run_dir)) if run_dir is not None else self.folder or RunFolder(Path("."))
        path, state = checkpoint.readable_checkpoint(folder.checkpoints, self.say)
        world, rank = self.accelerator.num_processes, self.accelerator.process_index
        if int(state.get("processes", 1)) != world:  # allowed, but the data and noise streams change
            self.progress.message(f"{path}: written by {state.get('processes', 1)} process(es), resumed on {world}: "
                      "training goes on, but not exactly as the original run would")
        if world > 1:
            mine = checkpoint.rank_part(path, rank)
            if not mine.is_file():
                raise GanzooError(f"{mine}: missing; this run was not trained with {world} processes "
                                  "(or not this many): resume it with as many processes as it was started with")
            state.update(checkpoint.load_checkpoint(mine))
        return path, state

    def resumed_at(self, step: int) -> None:
        """Rows past ``step`` leave metrics.jsonl: the resumed run writes them again."""
        if self.folder is not None and self.main:
            MetricsLog(self.folder.metrics, note=self.say).truncate_after(step)

    def save_curves(self) -> None:
        if self.folder is not None and self.main:
            artifacts.save_curves(MetricsLog(self.folder.metrics, note=self.say).rows(), self.folder.curves)

    def latest_checkpoint(self) -> Path | None:
        return checkpoint.latest_checkpoint(self.folder.checkpoints) if self.folder is not None else None

    def say(self, message: str) -> None:
        """A line worth showing even to a quiet run (steps lost, lines dropped), from the main process."""
        if self.progress.enabled:
            self.progress.message(message)
        elif self.main:
            print(message, file=sys.stderr, flush=True)
