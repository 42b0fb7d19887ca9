"""One trainer for every GAN: Algorithm 1 of the original paper, on HuggingFace accelerate.

Per generator step: ``d_steps`` critic steps, each with a fresh real batch and fresh z, then one generator
step with D frozen as a whole, on the last critic step's fakes (``train.g_step_fakes = "shared"``: one G
forward per step) or on fresh z (``"fresh"``, Algorithm 1 to the letter). The loss gives the objectives,
the regularisers their penalties and constraints; the trainer owns the schedule, the optimisers and the
random streams, and takes built objects (names are :mod:`ganzoo.build`'s). Gradient accumulation is
explicit: DDP's sync is skipped (``no_sync``) on all but the last micro-batch (accelerate's ``accumulate()``
counts calls across both models: with separate D and G blocks it synced none of 4 D steps).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganzoo.components import DBatch, DOutput, GBatch, Regularization
from ganzoo.errors import GanzooError
from ganzoo.training import distributed
from ganzoo.training.gstep import keeps_fakes
from ganzoo.training.optim import decay_learning_rates
from ganzoo.training.parts import TrainerParts
from ganzoo.training.state import fitting
from ganzoo.training.topk import keep_top, top_k_count
from ganzoo.training.view import StepView


class Trainer(TrainerParts):
    """Train any generator/discriminator pair on any data with any GAN loss (a :class:`GANLoss`; ``ganzoo.Trainer``
    also takes its name). ``data``: a dataset component, a tensor, an ``(x, y)`` pair, a ``Dataset`` or a
    ``DataLoader``. Options: a recipe's ``[train]`` table, as ``train=TrainOptions(...)`` or keywords. With
    ``run_dir`` the run writes weights, samples, metrics and checkpoints (``self.outputs``); ``callbacks`` get
    a :class:`~ganzoo.training.view.StepView` after every step, ``observers`` every row and grid written.
    What it holds, and how that is assembled from the arguments: :class:`~ganzoo.training.parts.TrainerParts`."""

    # ---------------------------------------------------------------- one step of Algorithm 1
    def train_step(self) -> None:
        config, optim = self.config, self.optim_config
        if config.lr_decay == "linear":
            decay_learning_rates(((self.opt_g, optim.generator), (self.opt_d, optim.discriminator)),
                                 self._progress())
        for k in range(config.d_steps):
            self.discriminator_step(keep_fakes=keeps_fakes(config.g_step_fakes, critic_step=k,
                                                           d_steps=config.d_steps, grad_accum=config.grad_accum))
        self.generator_step()
        self.step += 1
        self.figures.end_step(self.step)

    def discriminator_step(self, keep_fakes: bool = False) -> None:
        """One critic update: real and fake through D in one forward (safe for BatchNorm under DDP), the
        objective plus the regularisers due at this critic step, then the constraints. ``keep_fakes``: make
        the fakes with G's graph and keep them for G's step (``train.g_step_fakes = "shared"``)."""
        accum = self.config.grad_accum
        due = [r for r in self.regularizations if self.d_updates % r.every == 0] if self.regularizations else ()
        for micro in range(accum):
            x, c = self._real()
            self._last_real = (x, c)  # what G's step may reuse (train.g_step_batchnorm = "reused-reals")
            with self._sync_unless_last(self.d_model, micro):
                z = self._z(len(x))
                with torch.set_grad_enabled(keep_fakes):  # G's step backpropagates through kept fakes
                    made = self.g_model(z, c)  # fakes share the real batch's labels
                fake = made.detach().to(x.dtype)
                if keep_fakes:
                    self._kept_fakes = (z, c, made)
                both_c = None if c is None else torch.cat([c, c])
                real_out, fake_out = self._d(torch.cat([x, fake]), both_c).split(len(x))
                if self.adaptive is not None:
                    self.adaptive.observe(real_out.logits.detach())
                batch = DBatch(real=x, fake=fake, labels=c, real_out=real_out, fake_out=fake_out,
                               critic=self._critic, codes=self._codes(z), progress=self._progress())
                loss = self.loss.d_objective(batch)
                penalty = self._penalties(batch, due) if due else None
                total = loss if penalty is None else loss + penalty
                self._backward(total if accum == 1 else total / accum)
            self.figures.record_d(loss, real_out.logits, fake_out.logits, penalty)
        self._optimizer_step(self.opt_d)
        for regularization in due:
            regularization.regularizer.after_d_step(self.discriminator)
        self.d_updates += 1

    def generator_step(self) -> None:
        """One generator update with D frozen as a whole (its gradients would leak otherwise), on fresh z or
        on the fakes the last critic step kept."""
        accum = self.config.grad_accum
        self.discriminator.requires_grad_(False)
        try:
            for micro in range(accum):
                kept, self._kept_fakes = self._kept_fakes, None
                n = self.config.batch_size
                c = self._labels(n) if kept is None else kept[1]
                # D under no_sync too: a DDP forward with gradients on arms D's all-reduce hooks, no backward
                # reaches its frozen weights here, and the armed hooks would fire in D's next no_sync micro-batch
                with self._sync_unless_last(self.g_model, micro), self.accelerator.no_sync(self.d_model):
                    if kept is None:
                        z = self._z(n)
                        fake = self.g_model(z, c)
                    else:  # the last critic step's z, labels and fakes, G's graph kept (g_step_fakes = "shared")
                        z, _, fake = kept
                    fake_out, real_out = self._g_step_outputs(fake, c)
                    batch = GBatch(fake=fake, labels=c, fake_out=fake_out, real_out=real_out, codes=self._codes(z),
                                   progress=self._progress(), z=z)
                    penalty = self._g_penalties(batch) if self.regularizations else None
                    batch = keep_top(batch, top_k_count(self.step, self.config.steps, n, self.config.g_top_k))
                    loss = self.loss.g_objective(batch)
                    loss = loss if penalty is None else loss + penalty
                    self._backward(loss if accum == 1 else loss / accum)
                self.figures.record_g(loss)
            self._optimizer_step(self.opt_g)
        finally:
            self.discriminator.requires_grad_(True)
        if self.ema is not None:
            self.ema.update_parameters(self.generator)

    def _g_step_outputs(self, fake: torch.Tensor, c: torch.Tensor | None) -> tuple[DOutput, DOutput | None]:
        """D's outputs for G's step: on the fakes alone (in eval mode when ``train.g_step_batchnorm`` says so),
        or on reals beside them for a BatchNorm D or a loss that compares with reals (``gstep``)."""
        inputs = self._g_inputs
        if inputs.reals is None:  # eval mode: running statistics, G's loss not depending on the other fakes
            self.d_model.train(not inputs.eval_mode)
            try:
                return self._d(fake, c), None
            finally:
                self.d_model.train(True)
        reuse = inputs.reals == "reused" and self._last_real is not None
        x, real_c = self._last_real if reuse else self._real()
        both_c = None if c is None else torch.cat([real_c, c])
        real_out, fake_out = self._d(torch.cat([x, fake.to(x.dtype)]), both_c).split(len(x))
        return fake_out, real_out

    # ---------------------------------------------------------------- the step's inputs and plumbing
    def _real(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        x, c = next(self.batches)
        if self.config.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        if self.num_classes and c is None:
            raise GanzooError("the model is conditional, but the data yields no class labels")
        if self.num_classes and self.config.group_by_class:
            order = c.argsort(stable=True)
            x, c = x[order], c[order]
        return x, (c if self.num_classes else None)

    def _z(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.latent_dim, device=self.device, generator=self.streams.noise)

    def _labels(self, n: int) -> torch.Tensor | None:
        if not self.num_classes:
            return None
        labels = torch.randint(self.num_classes, (n,), device=self.device, generator=self.streams.noise)
        return labels.sort(stable=True).values if self.config.group_by_class else labels

    def _d(self, x: torch.Tensor, c: torch.Tensor | None, model: Any = None) -> DOutput:
        """D's outputs on ``x``, through the run's augmentation when it has one."""
        if self.augment is not None:
            x = self.augment(x, self.streams.augment)
        return DOutput.of((self.d_model if model is None else model)(x, c))

    def _critic(self, x: torch.Tensor, c: torch.Tensor | None) -> DOutput:
        """D as penalties differentiate it: augmented alike, outside DDP, compile and autocast wrappers."""
        return self._d(x, c, self._plain_d)

    def _codes(self, z: torch.Tensor) -> Mapping[str, torch.Tensor] | None:
        """The latent codes ``z`` holds, for a generator that owns its prior (``latent_codes``); else None."""
        return None if self._latent_codes is None else self._latent_codes(z)

    def _progress(self) -> float:
        """The share of the run done before this step: the learning-rate decay's, and losses with a schedule
        read it from their batch."""
        return self.step / max(1, self.config.steps)

    def _penalties(self, batch: DBatch, due: Iterable[Regularization]) -> torch.Tensor | None:
        """The sum of the due regularisers' weighted penalties (None when none gives one)."""
        return _total(regularization.term(batch) for regularization in due)

    def _g_penalties(self, batch: GBatch) -> torch.Tensor | None:
        """The sum of the G-side penalties due at this G step, weighted, on the whole batch (before top-k)."""
        return _total(r.g_term(batch) for r in self.regularizations if self.step % r.every == 0)

    def _sync_unless_last(self, model: nn.Module, micro: int) -> contextlib.AbstractContextManager:
        last = micro == self.config.grad_accum - 1
        return contextlib.nullcontext() if last else self.accelerator.no_sync(model)

    def _backward(self, loss: torch.Tensor) -> None:
        loss.backward() if self._plain_steps else self.accelerator.backward(loss)

    def _optimizer_step(self, optimizer: Any) -> None:
        inner = optimizer.optimizer if self._plain_steps else optimizer  # accelerate's AcceleratedOptimizer
        inner.step()
        inner.zero_grad(set_to_none=True)

    # ---------------------------------------------------------------- the loop
    def fit(self, until: int | None = None) -> dict[str, Any]:
        """Train to ``until`` (default: ``train.steps``); returns the last logged figures.

        Ctrl-C finishes the current step, saves a checkpoint and raises KeyboardInterrupt.
        """
        config = self.config
        total = min(config.steps if until is None else until, config.steps)  # until=0: nothing
        self.state.clock.start()
        self.figures.reset(self.step)
        last: dict[str, Any] = {}
        self.outputs.prepare()
        if not self._announced:  # once per trainer: a resumed run says it again from its new process
            self._announced = True
            self.progress.message(f"fast paths (train.fast = {config.fast!r}): {self.fast_paths}")
        self.outputs.notify("on_start", self.step)
        try:
            with self.stop.armed():
                while self.step < total:
                    self.train_step()
                    self.progress.advance(self.step)
                    if self.world == 1 and self.progress.wants_early(self.step):  # figures before the first log
                        self.progress.early(self.figures.row(self.step))
                    if self.callbacks:
                        view = self.view(total)
                        for callback in self.callbacks:
                            callback(view)
                    if self.step % config.log_every == 0 or self.step == total:
                        last = self._log()
                    periodic = self.step < total  # finish() writes both at the last step
                    if periodic and config.sample_every and self.step % config.sample_every == 0:
                        self.save_samples()
                    if periodic and config.checkpoint_every and self.step % config.checkpoint_every == 0:
                        self.save_checkpoint()
                    if self.stop.requested():
                        self.save_checkpoint()
                        self.progress.close()  # the CLI says it, once: the trainer only tells it where it stopped
                        raise KeyboardInterrupt(f"interrupted at step {self.step}; checkpoint saved")
            self.finish()
            distributed.write_rank_digest(self.state.weights(), self.batches, rank=self.rank, world=self.world,
                                          step=self.step)  # only with GANZOO_RANK_DIGEST set (tests, debugging)
        finally:  # a later fit() of this trainer goes on counting wall time from here
            self.outputs.notify("on_end")
            self.state.clock.lap()
        return last

    def view(self, total: int | None = None) -> StepView:
        """What a callback sees of the run now."""
        return StepView(self.step, self.config.steps if total is None else total, self.sampling_generator(),
                        self.log_row, self.folder, self.device, self.accelerator.is_main_process,
                        self.outputs.cards.get("generator"), self._plain_d)

    def _check_finite(self) -> None:
        self.figures.check_finite(self.outputs.latest_checkpoint())

    def _log(self) -> dict[str, Any]:
        self._check_finite()
        row = self.figures.row(self.step)
        if self.adaptive is not None:
            row.update({f"augment_{name}": float(value) for name, value in self.adaptive.figures().items()})
        row["fast"] = self.fast_paths
        row["wall_s"] = self.state.clock.seconds()
        self.outputs.emit_row(row)
        self.figures.reset(self.step)
        return row

    def log_row(self, row: dict[str, Any]) -> None:
        """Append figures (an evaluation's, say) to metrics.jsonl under the current step."""
        self.outputs.emit_row({"step": self.step, **row})

    def finish(self) -> None:
        """Write the final checkpoint, weights, samples and curves."""
        self._check_finite()
        # several processes: all end with the main one's BatchNorm statistics (of G, D and the EMA copy)
        distributed.broadcast_buffers(self.state.modules(), self.world)
        self.save_checkpoint()
        self.save_samples()
        self.outputs.save_curves()
        self.progress.close()

    # ---------------------------------------------------------------- what a run keeps (written by outputs)
    def sampling_generator(self) -> nn.Module:
        return self.ema.module if self.ema is not None else self.generator

    def save_samples(self) -> Path | None:
        return self.outputs.save_samples(self.step, self.sampling_generator())

    def save_weights(self) -> None:
        self.outputs.save_weights(self.step, self.state.weights())

    def save_checkpoint(self) -> Path | None:
        """Checkpoint plus the current weights, never of a run gone non-finite."""
        if self.folder is None:
            return None
        self._check_finite()
        return self.outputs.save_checkpoint(self.step, self.state_dict(), self.state.weights())

    def state_dict(self) -> dict[str, Any]:
        """Everything resuming needs, this process's random streams included."""
        return self.state.state_dict(self.step)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step = self.state.load_state_dict(state)
        self.d_updates = self.step * self.config.d_steps  # where each lazy regulariser's schedule stands

    def resume(self, run_dir: str | Path | None = None) -> int:
        """Load the newest readable checkpoint of ``run_dir`` (default: this trainer's); returns the step reached."""
        path, state = self.outputs.read_checkpoint(run_dir)
        with fitting(path):
            self.load_state_dict(state)
        self.outputs.resumed_at(self.step)
        return self.step


def _total(terms: Iterable[torch.Tensor | None]) -> torch.Tensor | None:
    """The sum of the terms that are not None (None when none is)."""
    given = [term for term in terms if term is not None]
    return sum(given[1:], given[0]) if given else None
