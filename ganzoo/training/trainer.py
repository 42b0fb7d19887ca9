"""One trainer for every GAN: Algorithm 1 of the original paper, on HuggingFace accelerate.

Per generator step: ``d_steps`` critic steps, each with a fresh real batch and fresh z, then one generator
step with D frozen as a whole, on the last critic step's fakes (``train.g_step_fakes = "shared"``, the
default: G runs forward once per step) or on fresh z (``"fresh"``, Algorithm 1 to the letter). The loss gives
the objectives and the regularisers their penalties and constraints; the trainer owns the schedule and the optimisers. Around it, each in its module: the running
figures (``figures``), the run folder's layout (``ganzoo.run_folder``), what a run keeps (``outputs``), the
accelerator and the stop signal (``distributed``) and what callbacks and observers see (``view``).

Gradient accumulation is explicit: ``grad_accum`` micro-batches per optimiser step, DDP's gradient sync
skipped (``no_sync``) on all but the last (accelerate's ``accumulate()`` counts calls across both models:
DESIGN.md measured 0 of 4 synced D steps with separate D and G blocks).
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganzoo.api import resolve_loss
from ganzoo.components import DBatch, DOutput, GANLoss, GBatch, Regularization, Regularizer
from ganzoo.errors import GanzooError, TrainingError
from ganzoo.options import parse_options
from ganzoo.recipe.schema import OptimSection, TrainOptions
from ganzoo.run_folder import RunFolder
from ganzoo.training import artifacts, checkpoint, distributed, fast, outputs, tracking
from ganzoo.training.batches import make_batches
from ganzoo.training.distributed import plain_forward
from ganzoo.training.ema import ema_model
from ganzoo.training.figures import RunningFigures
from ganzoo.training.gstep import g_step_inputs, keeps_fakes
from ganzoo.training.optim import build_optimizer, decay_learning_rates
from ganzoo.training.progress import Progress
from ganzoo.training.view import Callback, Observer, StepView
from ganzoo.weights import ModelCard


class Trainer:
    """Train any generator/discriminator pair on any data with any GAN loss.

    ``loss`` is a registered name (``"non-saturating"``) or a :class:`GANLoss`; ``data`` is a dataset
    component, a tensor, an ``(x, y)`` pair, a torch ``Dataset`` or a ``DataLoader``. Training options
    are those of a recipe's ``[train]`` table, given as ``train=TrainOptions(...)`` or keywords
    (``steps=200, batch_size=32``). With ``run_dir`` the trainer writes weights, samples, metrics and
    checkpoints there; without, it only trains. Each of ``callbacks`` is called with a
    :class:`~ganzoo.training.view.StepView` after every step (periodic evaluation uses this, writing its
    figures with ``view.log_row``); each of ``observers`` sees every logged row and written sample grid.
    """

    def __init__(
        self, generator: nn.Module, discriminator: nn.Module, loss: str | GANLoss, data: Any, *,
        train: TrainOptions | None = None, optim: OptimSection | None = None, seed: int = 0,
        num_classes: int | None = None, run_dir: str | Path | RunFolder | None = None, quiet: bool = False,
        cards: dict[str, ModelCard] | None = None, callbacks: list[Callback] | None = None,
        observers: list[Observer] | None = None, regularizers: Iterable[Regularization | Regularizer] = (),
        augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None, **train_options: Any,
    ) -> None:
        if train is None:
            train = parse_options(TrainOptions, train_options, source="Trainer", path="train")
        elif train_options:
            raise TypeError("give either train=TrainOptions(...) or keyword options, not both")
        self.generator, self.discriminator = generator, discriminator
        self.loss = resolve_loss(loss)
        self.regularizations = [r if isinstance(r, Regularization) else Regularization(r) for r in regularizers]
        penalised = any(type(r.regularizer).penalty is not Regularizer.penalty for r in self.regularizations)
        # train.fast's choice written into the options: what runs is what the resolved recipe says
        train, optim = fast.resolve(train, optim or OptimSection(), generator, discriminator, has_penalty=penalised)
        self.config, self.optim_config = train, optim
        self.fast_paths, self._announced = fast.summary(train, optim), False
        self.augment, self.d_updates = augment, 0
        # an augmentation that adapts (ADA) watches D's logits on reals; any augmentation may offer this
        self._observe_reals = getattr(augment, "observe", None)
        self.seed, self.quiet = seed, quiet
        self.latent_dim = int(getattr(generator, "latent_dim"))
        self.num_classes = int(num_classes if num_classes is not None else getattr(generator, "num_classes", 0))
        self.folder = run_dir if isinstance(run_dir, RunFolder) or run_dir is None else RunFolder(Path(run_dir))
        self.cards = cards or {}
        self.callbacks, self.observers = list(callbacks or []), list(observers or [])
        self.step, self.wall_offset = 0, 0.0
        self.accelerator = distributed.setup_accelerator(train)
        self.device = self.accelerator.device
        self.rank, self.world = self.accelerator.process_index, self.accelerator.num_processes
        self.progress = Progress(train.steps, enabled=not quiet and self.accelerator.is_main_process)
        self.stop = distributed.StopSignal(self.accelerator)
        self.observers += tracking.for_trainer(train, self.run_dir, self.cards, self.accelerator.is_main_process)
        self._setup_models()
        self.batches = make_batches(data, train.batch_size, seed=seed, device=self.device, rank=self.rank,
                                    world=self.world, prepare_loader=self.accelerator.prepare_data_loader)
        self.data = data
        self.sample_shape = outputs.sample_shape(self)
        reduce = (lambda t: self.accelerator.reduce(t, reduction="mean")) if self.world > 1 else (lambda t: t)
        self.figures = RunningFigures(self.device, logistic=self.loss.kind == "logistic", d_steps=train.d_steps,
                                      grad_accum=train.grad_accum, batch_size=train.batch_size, world=self.world,
                                      reduce=reduce, penalty=penalised)

    @property
    def run_dir(self) -> Path | None:
        return None if self.folder is None else self.folder.path

    # ---------------------------------------------------------------- setup
    def _setup_models(self) -> None:
        config = self.config
        fmt = torch.channels_last if config.channels_last else torch.contiguous_format
        self.generator.to(self.device, memory_format=fmt)
        self.discriminator.to(self.device, memory_format=fmt)
        opt_g = build_optimizer(self.generator.parameters(), self.optim_config.generator)
        opt_d = build_optimizer(self.discriminator.parameters(), self.optim_config.discriminator)
        self.ema = ema_model(self.generator, config.ema) if config.ema > 0 else None
        g_model, d_model, self.opt_g, self.opt_d = self.accelerator.prepare(
            self.generator, self.discriminator, opt_g, opt_d
        )
        if self.world > 1:  # the gradient penalty's double backward gives a [1, C, k, k] weight gradient strides
            # that differ from DDP's bucket only along its size-1 dimension: the same memory layout, a false alarm
            warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")
        if config.compile:
            g_model, d_model = torch.compile(g_model), torch.compile(d_model)
        self.g_model, self.d_model = g_model, d_model
        self._plain_d = plain_forward(d_model)
        self._latent_codes = getattr(self.generator, "latent_codes", None)  # a generator that owns its prior
        self._plain_steps = distributed.wrappers_add_nothing(self.accelerator)
        d_has_batchnorm = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in self.discriminator.modules())
        self._g_inputs = g_step_inputs(config.g_step_batchnorm, d_has_batchnorm=d_has_batchnorm,
                                       loss_needs_reals=self.loss.needs_real_logits)
        self._last_real: tuple[torch.Tensor, torch.Tensor | None] | None = None
        self._kept_fakes: tuple[torch.Tensor, torch.Tensor | None, torch.Tensor] | None = None  # (z, c, G(z, c))
        self.noise = torch.Generator(device=self.device).manual_seed(self.seed * 100_003 + 104_729 * (self.rank + 1))
        self.augment_noise = torch.Generator(device=self.device).manual_seed(self.seed * 7_919 + 15_485_863 * (self.rank + 1))
        self.fixed_z, self.fixed_c = outputs.fixed_noise(self)

    # ---------------------------------------------------------------- one step of Algorithm 1
    def _labels(self, n: int) -> torch.Tensor | None:
        if not self.num_classes:
            return None
        return torch.randint(self.num_classes, (n,), device=self.device, generator=self.noise)

    def _z(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.latent_dim, device=self.device, generator=self.noise)

    def _sync_unless_last(self, model: nn.Module, micro: int) -> contextlib.AbstractContextManager:
        last = micro == self.config.grad_accum - 1
        return contextlib.nullcontext() if last else self.accelerator.no_sync(model)

    def _real(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        x, c = next(self.batches)
        if self.config.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        if self.num_classes and c is None:
            raise GanzooError("the model is conditional, but the data yields no class labels")
        return x, (c if self.num_classes else None)

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
                if self._observe_reals is not None:
                    self._observe_reals(real_out.logits.detach())
                batch = DBatch(real=x, fake=fake, labels=c, real_out=real_out, fake_out=fake_out,
                               critic=self._critic, codes=self._codes(z))
                loss = self.loss.d_objective(batch)
                penalty = self._penalties(batch, due) if due else None
                total = loss if penalty is None else loss + penalty
                self._backward(total if accum == 1 else total / accum)
            self.figures.record_d(loss, real_out.logits, fake_out.logits, penalty)
        self._optimizer_step(self.opt_d)
        for regularization in due:
            regularization.regularizer.after_d_step(self.discriminator)
        self.d_updates += 1

    def _penalties(self, batch: DBatch, due: Iterable[Regularization]) -> torch.Tensor | None:
        """The sum of the due regularisers' weighted penalties (None when none gives one)."""
        terms = [term for regularization in due if (term := regularization.term(batch)) is not None]
        return sum(terms[1:], terms[0]) if terms else None

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
                    batch = GBatch(fake=fake, labels=c, fake_out=fake_out, real_out=real_out, codes=self._codes(z))
                    loss = self.loss.g_objective(batch)
                    self._backward(loss if accum == 1 else loss / accum)
                self.figures.record_g(loss)
            self._optimizer_step(self.opt_g)
        finally:
            self.discriminator.requires_grad_(True)
        if self.ema is not None:
            self.ema.update_parameters(self.generator)

    def _g_step_outputs(self, fake: torch.Tensor, c: torch.Tensor | None) -> tuple[DOutput, DOutput | None]:
        """D's outputs for G's step: on the fakes, and on reals beside them when ``train.g_step_batchnorm``
        asks for them for a BatchNorm D or the loss compares with reals (the choice: ganzoo/training/gstep.py).
        """
        inputs = self._g_inputs
        if inputs.reals is None:
            if not inputs.eval_mode:
                return self._d(fake, c), None
            self.d_model.train(False)  # running statistics: G's loss does not depend on the other fakes
            try:
                return self._d(fake, c), None
            finally:
                self.d_model.train(True)
        reuse = inputs.reals == "reused" and self._last_real is not None
        x, real_c = self._last_real if reuse else self._real()
        both_c = None if c is None else torch.cat([real_c, c])
        real_out, fake_out = self._d(torch.cat([x, fake.to(x.dtype)]), both_c).split(len(x))
        return fake_out, real_out

    def _d(self, x: torch.Tensor, c: torch.Tensor | None) -> DOutput:
        """D's outputs on ``x``, through the run's augmentation when it has one."""
        if self.augment is not None:
            x = self.augment(x, self.augment_noise)
        return DOutput.of(self.d_model(x, c))

    def _critic(self, x: torch.Tensor, c: torch.Tensor | None) -> DOutput:
        """D as penalties differentiate it: augmented alike, outside DDP, compile and autocast wrappers."""
        if self.augment is not None:
            x = self.augment(x, self.augment_noise)
        return DOutput.of(self._plain_d(x, c))

    def _codes(self, z: torch.Tensor) -> Mapping[str, torch.Tensor] | None:
        """The latent codes ``z`` holds, for a generator that owns its prior (``latent_codes``); else None."""
        return None if self._latent_codes is None else self._latent_codes(z)

    def _backward(self, loss: torch.Tensor) -> None:
        if self._plain_steps:
            loss.backward()
        else:
            self.accelerator.backward(loss)

    def _optimizer_step(self, optimizer: Any) -> None:
        inner = optimizer.optimizer if self._plain_steps else optimizer  # accelerate's AcceleratedOptimizer
        inner.step()
        inner.zero_grad(set_to_none=True)

    def train_step(self) -> None:
        if self.config.lr_decay == "linear":
            decay_learning_rates(self, self.step / self.config.steps)
        config = self.config
        for k in range(config.d_steps):
            self.discriminator_step(keep_fakes=keeps_fakes(config.g_step_fakes, critic_step=k,
                                                           d_steps=config.d_steps, grad_accum=config.grad_accum))
        self.generator_step()
        self.step += 1
        self.figures.end_step(self.step)

    # ---------------------------------------------------------------- the loop
    def fit(self, until: int | None = None) -> dict[str, Any]:
        """Train to ``until`` (default: ``train.steps``); returns the last logged figures.

        Ctrl-C finishes the current step, saves a checkpoint and raises KeyboardInterrupt.
        """
        config = self.config
        total = min(config.steps if until is None else until, config.steps)  # until=0: nothing
        self._started = time.perf_counter()
        self.figures.reset(self.step)
        last: dict[str, Any] = {}
        outputs.prepare_folder(self)
        if not self._announced:  # once per trainer: a resumed run says it again from its new process
            self._announced = True
            self.progress.message(f"fast paths (train.fast = {config.fast!r}): {self.fast_paths}")
        self._notify("on_start", self.step)
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
            distributed.write_rank_digest(self)  # only with GANZOO_RANK_DIGEST set (tests, debugging)
        finally:  # a later fit() of this trainer goes on counting wall time from here
            self._notify("on_end")
            self.wall_offset += time.perf_counter() - self._started
            self._started = time.perf_counter()
        return last

    def view(self, total: int | None = None) -> StepView:
        """What a callback sees of the run now."""
        return StepView(
            step=self.step, total=self.config.steps if total is None else total, generator=self.sampling_generator(),
            log_row=self.log_row, run_folder=self.folder, device=self.device,
            is_main_process=self.accelerator.is_main_process, card=self.cards.get("generator"),
        )

    def _check_finite(self) -> None:
        first = self.figures.first_non_finite()
        if first is not None:
            last = checkpoint.latest_checkpoint(self.folder.checkpoints) if self.folder else None
            kept = f"; the last good checkpoint {last} is intact" if last else ""
            raise TrainingError(f"non-finite loss at step {first}: training stopped{kept}. "
                                "Try a lower learning rate, a gradient penalty, or train.mixed_precision = 'no'")

    def _log(self) -> dict[str, Any]:
        self._check_finite()
        row = self.figures.row(self.step)
        row.update(outputs.augment_figures(self))
        row["fast"] = self.fast_paths
        row["wall_s"] = self.wall_offset + time.perf_counter() - self._started
        self.progress.log(row)
        outputs.emit_row(self, row)
        self.figures.reset(self.step)
        return row

    def log_row(self, row: dict[str, Any]) -> None:
        """Append figures (an evaluation's, say) to metrics.jsonl under the current step."""
        self.progress.log({"step": self.step, **row})
        outputs.emit_row(self, {"step": self.step, **row})

    def _notify(self, event: str, *args: Any) -> None:
        """Observers that want to know when a fit() starts (at which step: a resumed run's) and ends."""
        if self.accelerator.is_main_process:
            for observer in self.observers:
                if hasattr(observer, event):
                    getattr(observer, event)(*args)

    def finish(self) -> None:
        """Write the final checkpoint, weights, samples and curves."""
        self._check_finite()
        distributed.broadcast_buffers(self)  # several processes: all end with the main one's BatchNorm statistics
        self.save_checkpoint()
        self.save_samples()
        if self.folder is not None and self.accelerator.is_main_process:
            artifacts.save_curves(artifacts.MetricsLog(self.folder.metrics).rows(), self.folder.curves)
        self.progress.close()

    # ---------------------------------------------------------------- files (see outputs.py)
    def sampling_generator(self) -> nn.Module:
        return self.ema.module if self.ema is not None else self.generator

    def save_samples(self) -> Path | None:
        return outputs.save_samples(self)

    def state_dict(self) -> dict[str, Any]:
        return outputs.state_dict(self)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        outputs.load_state_dict(self, state)

    def save_checkpoint(self) -> Path | None:
        """Checkpoint plus the current weights, never of a run gone non-finite."""
        if self.folder is None:
            return None
        self._check_finite()
        return outputs.save_checkpoint(self)

    def resume(self, run_dir: str | Path | None = None) -> int:
        """Load the newest checkpoint of ``run_dir`` (default: this trainer's); returns the step reached."""
        return outputs.resume(self, run_dir)

    def save_weights(self) -> None:
        outputs.save_weights(self)
