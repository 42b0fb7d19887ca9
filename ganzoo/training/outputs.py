"""What a run keeps: checkpoints to resume from, self-describing weights to share, sample grids to look at.

Functions of a :class:`~ganzoo.training.trainer.Trainer` rather than methods of it, so that the trainer
module holds the loop and Algorithm 1 only. Where each file goes is :mod:`ganzoo.run_folder`'s business;
how a checkpoint is stored (safetensors, no pickle) is :mod:`~ganzoo.training.checkpoint`'s.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import torch

from ganzoo.errors import GanzooError
from ganzoo.run_folder import RunFolder
from ganzoo.training import artifacts, checkpoint
from ganzoo.weights import ModelCard, save_weights as write_weights

if TYPE_CHECKING:  # pragma: no cover
    from ganzoo.training.trainer import Trainer


def prepare_folder(trainer: Trainer) -> None:
    """The run folder's subfolders, made by the main process before any other process writes there."""
    if trainer.folder is not None and trainer.accelerator.is_main_process:
        trainer.folder.prepare()
    if trainer.folder is not None and trainer.world > 1:  # the others write their checkpoint parts there
        trainer.accelerator.wait_for_everyone()


def emit_row(trainer: Trainer, row: dict[str, Any]) -> None:
    """Every row of figures passes here: into metrics.jsonl, and to each observer (main process only)."""
    if not trainer.accelerator.is_main_process:
        return
    if trainer.folder is not None:
        artifacts.MetricsLog(trainer.folder.metrics).append(row)
    for observer in trainer.observers:
        if hasattr(observer, "on_row"):
            observer.on_row(row)


def fixed_noise(trainer: Trainer) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The noise (and labels: one row per class) every sample grid of the run is drawn from."""
    fixed = torch.Generator().manual_seed(trainer.seed)
    classes, size = trainer.num_classes, trainer.config.grid_size
    per_row = max(1, size // classes) if classes else size
    z = torch.randn((classes or 1) * per_row, trainer.latent_dim, generator=fixed).to(trainer.device)
    c = torch.arange(classes).repeat_interleave(per_row).to(trainer.device) if classes else None
    return z, c


@torch.no_grad()
def sample_shape(trainer: Trainer) -> tuple[int, ...]:
    """One sample's shape, from the data when it says so, else from G itself (in eval mode: no side effects)."""
    info = getattr(trainer.data, "info", None)
    if info is not None:
        return tuple(info.shape)
    generator = trainer.generator
    was_training = generator.training
    generator.eval()
    c = None if trainer.fixed_c is None else trainer.fixed_c[:1]
    shape = tuple(generator(trainer.fixed_z[:1], c).shape[1:])
    generator.train(was_training)
    return shape


@torch.no_grad()
def save_samples(trainer: Trainer) -> Path | None:
    """The grid of the fixed noise at this step, into samples/ (main process); each observer sees it."""
    folder = trainer.folder
    if folder is None or not trainer.accelerator.is_main_process:
        return None
    model = trainer.sampling_generator()
    was_training = model.training
    model.eval()
    samples = model(trainer.fixed_z, trainer.fixed_c)
    model.train(was_training)
    reference = _reference_points(trainer, len(samples) * 4) if samples.dim() == 2 else None
    path = artifacts.save_samples(samples, folder.sample_grid(trainer.step), rows=trainer.num_classes or None,
                                  reference=reference, title=f"step {trainer.step}")
    for observer in trainer.observers:
        if hasattr(observer, "on_samples"):
            observer.on_samples(trainer.step, path, samples)
    return path


def _reference_points(trainer: Trainer, n: int) -> torch.Tensor | None:
    data = trainer.data
    if callable(getattr(data, "sample", None)):
        return data.sample(n, torch.Generator().manual_seed(trainer.seed))[0]
    if callable(getattr(data, "tensors", None)):
        return data.tensors()[0][:n]
    return None


def state_dict(trainer: Trainer) -> dict[str, Any]:
    """Everything resuming needs, this process's random streams included."""
    state = {
        "step": trainer.step,
        "wall_s": trainer.wall_offset + time.perf_counter() - getattr(trainer, "_started", time.perf_counter()),
        "generator": trainer.generator.state_dict(), "discriminator": trainer.discriminator.state_dict(),
        "opt_g": trainer.opt_g.state_dict(), "opt_d": trainer.opt_d.state_dict(),
        "batches": trainer.batches.state_dict(),
        "rng": {"torch": torch.get_rng_state(), "noise": trainer.noise.get_state(),
                "augment": trainer.augment_noise.get_state()},
        "processes": trainer.world,
    }
    if torch.cuda.is_available():
        state["rng"]["cuda"] = torch.cuda.get_rng_state_all()
    if trainer.ema is not None:
        state["ema"] = trainer.ema.state_dict()
    return state


def load_state_dict(trainer: Trainer, state: dict[str, Any]) -> None:
    trainer.step, trainer.wall_offset = int(state["step"]), float(state["wall_s"])
    trainer.generator.load_state_dict(state["generator"])
    trainer.discriminator.load_state_dict(state["discriminator"])
    trainer.opt_g.load_state_dict(state["opt_g"])
    trainer.opt_d.load_state_dict(state["opt_d"])
    trainer.batches.load_state_dict(state["batches"])
    torch.set_rng_state(state["rng"]["torch"])
    trainer.noise.set_state(state["rng"]["noise"])
    if "augment" in state["rng"]:
        trainer.augment_noise.set_state(state["rng"]["augment"])
    trainer.d_updates = trainer.step * trainer.config.d_steps  # where each lazy regulariser's schedule stands
    if "cuda" in state["rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["rng"]["cuda"])
    if trainer.ema is not None and "ema" in state:
        trainer.ema.load_state_dict(state["ema"])


def save_checkpoint(trainer: Trainer) -> Path | None:
    """Checkpoint (atomic) plus the current weights; every process keeps its own random streams."""
    folder = trainer.folder
    if folder is None:
        return None
    state = trainer.state_dict()
    path = folder.checkpoint(trainer.step)
    if trainer.world > 1:
        mine = {"batches": state["batches"], "rng": state["rng"]}
        checkpoint.save_checkpoint(checkpoint.rank_part(path, trainer.rank), mine)
        trainer.accelerator.wait_for_everyone()
    if trainer.accelerator.is_main_process:
        checkpoint.save_checkpoint(path, state)
        checkpoint.prune_checkpoints(folder.checkpoints)
        save_weights(trainer)
    return path


def resume(trainer: Trainer, run_dir: str | Path | None = None) -> int:
    """Load the newest readable checkpoint of ``run_dir`` (default: the trainer's); returns the step reached."""
    folder = RunFolder(Path(run_dir)) if run_dir is not None else trainer.folder or RunFolder(Path("."))
    path, state = checkpoint.readable_checkpoint(folder.checkpoints, lambda line: _note(trainer, line))
    if int(state.get("processes", 1)) != trainer.world:  # allowed, but the data and noise streams change
        trainer.progress.message(f"{path}: written by {state.get('processes', 1)} process(es), resumed on "
                                 f"{trainer.world}: training goes on, but not exactly as the original run would")
    if trainer.world > 1:
        mine = checkpoint.rank_part(path, trainer.rank)
        if not mine.is_file():
            raise GanzooError(f"{mine}: missing; this run was not trained with {trainer.world} processes "
                              "(or not this many): resume it with as many processes as it was started with")
        state.update(checkpoint.load_checkpoint(mine))
    try:
        trainer.load_state_dict(state)
    except (RuntimeError, KeyError, ValueError, TypeError) as err:  # another recipe's models, say
        first = " ".join(line.strip() for line in str(err).strip().splitlines()[:2]) or type(err).__name__
        raise GanzooError(f"{path}: the checkpoint does not fit these models or optimisers ({first}); "
                          "resume with the run's own recipe") from None
    if trainer.folder is not None and trainer.accelerator.is_main_process:
        artifacts.MetricsLog(trainer.folder.metrics).truncate_after(trainer.step)
    return trainer.step


def _note(trainer: Trainer, message: str) -> None:
    if trainer.progress.enabled:
        trainer.progress.message(message)
    elif trainer.accelerator.is_main_process:  # quiet, but losing steps is worth a line
        print(message, file=sys.stderr, flush=True)


def save_weights(trainer: Trainer) -> None:
    """``generator.safetensors`` (and EMA, discriminator) with self-describing metadata."""
    assert trainer.folder is not None
    roles = {"generator": trainer.generator, "discriminator": trainer.discriminator}
    if trainer.ema is not None:
        roles["generator-ema"] = trainer.ema.module
    for role, module in roles.items():
        card = trainer.cards.get("discriminator" if role == "discriminator" else "generator")
        if card is None and isinstance(getattr(module, "card", None), ModelCard):  # ganzoo.build_generator's
            info = getattr(trainer.data, "info", None)
            card = attrs.evolve(module.card, units=module.card.units or getattr(info, "units", None))
        if card is None:
            card = ModelCard(role=role, component=None, plugin=None, options={}, shape=trainer.sample_shape,
                             num_classes=trainer.num_classes, latent_dim=trainer.latent_dim)
        write_weights(module, trainer.folder.weights(role), attrs.evolve(card, role=role, step=trainer.step))
