"""One trainer for every GAN: Algorithm 1 of the original paper, on HuggingFace accelerate.

Per generator step: ``d_steps`` critic steps, each with a fresh real batch and fresh z, then one generator
step with D frozen as a whole. The loss supplies the pure objectives plus its regularisers (gradient
penalty, weight clipping); the trainer owns the schedule, the optimisers and everything written to disk.

Gradient accumulation is explicit: ``grad_accum`` micro-batches per optimiser step, with DDP's gradient sync
skipped (``no_sync``) on all but the last. accelerate's ``accumulate()`` counts calls across both models, and
separate D and G blocks put that counter out of step (DESIGN.md measured 0 of 4 synced D steps).

Losses are read back from the device only when logged; a device-side flag remembers the first step whose
loss was not finite, so the check costs no synchronisation.
"""

from __future__ import annotations

import contextlib
import copy
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganzoo.components import GANLoss
from ganzoo.errors import GanzooError, TrainingError
from ganzoo.options import options_to_dict, parse_options
from ganzoo.recipe.schema import OptimSection, TrainOptions
from ganzoo.training import artifacts, checkpoint, distributed, tracking
from ganzoo.training.batches import make_batches
from ganzoo.training.ema import ema_model
from ganzoo.training.optim import build_optimizer
from ganzoo.training.progress import Progress
from ganzoo.weights import ModelCard, save_weights

D_FIELDS = ("d_loss", "d_real", "d_fake", "penalty")
FOLD_EVERY = 64  # steps between folds of the recorded figures into the running sums (see Trainer._fold)


class Trainer:
    """Train any generator/discriminator pair on any data with any GAN loss.

    ``loss`` is a registered name (``"non-saturating"``) or a :class:`GANLoss`; ``data`` is a dataset
    component, a tensor, an ``(x, y)`` pair, a torch ``Dataset`` or a ``DataLoader``. Training options
    are those of a recipe's ``[train]`` table, given as ``train=TrainOptions(...)`` or keywords
    (``steps=200, batch_size=32``). With ``run_dir`` the trainer writes weights, samples, metrics and
    checkpoints there; without, it only trains. Each of ``callbacks`` is called with the trainer after every
    step (periodic evaluation uses this, writing its figures with :meth:`log_row`).
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        loss: str | GANLoss,
        data: Any,
        *,
        train: TrainOptions | None = None,
        optim: OptimSection | None = None,
        seed: int = 0,
        num_classes: int | None = None,
        run_dir: str | Path | None = None,
        quiet: bool = False,
        cards: dict[str, ModelCard] | None = None,
        callbacks: list[Callable[[Trainer], None]] | None = None,
        **train_options: Any,
    ) -> None:
        if train is None:
            train = parse_options(TrainOptions, train_options, source="Trainer", path="train")
        elif train_options:
            raise TypeError("give either train=TrainOptions(...) or keyword options, not both")
        self.config, self.optim_config = train, optim or OptimSection()
        self.generator, self.discriminator = generator, discriminator
        self.loss = _resolve_loss(loss)
        self.seed, self.quiet = seed, quiet
        self.latent_dim = int(getattr(generator, "latent_dim"))
        self.num_classes = int(num_classes if num_classes is not None else getattr(generator, "num_classes", 0))
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.cards = cards or {}
        self.callbacks = list(callbacks or [])
        self.step, self.wall_offset = 0, 0.0
        self._stop_requested = False
        self._setup_accelerator()
        self._setup_models()
        self.batches = make_batches(
            data, train.batch_size, seed=seed, device=self.device, rank=self.rank, world=self.world,
            prepare_loader=self.accelerator.prepare_data_loader,
        )
        self.data = data
        self.sample_shape = self._sample_shape()
        self._reset_sums()
        self.tracking = self._tracking()

    # ---------------------------------------------------------------- setup
    def _setup_accelerator(self) -> None:
        from accelerate.state import AcceleratorState, GradientState

        config = self.config
        if config.threads:
            torch.set_num_threads(config.threads)
        if config.device == "cuda" and not torch.cuda.is_available():
            raise GanzooError("train.device = 'cuda', but no CUDA GPU is visible; allowed here: 'auto', 'cpu'")
        # the accelerator state is a process-wide singleton; a second trainer in one process must start clean
        AcceleratorState._reset_state(reset_partial_state=False)
        GradientState._reset_state()
        precision = config.mixed_precision
        on_cpu = config.device == "cpu" or (config.device == "auto" and not torch.cuda.is_available())
        if precision == "fp16" and on_cpu:
            warnings.warn("mixed_precision = 'fp16' cannot take effect on CPU; training in fp32 (bf16 works on CPU)",
                          stacklevel=2)
            precision = "no"
        # several processes on CPUs need accelerate told so (see distributed.build_accelerator)
        self.accelerator = distributed.build_accelerator(cpu=config.device == "cpu", mixed_precision=precision)
        self.device = self.accelerator.device
        self.rank, self.world = self.accelerator.process_index, self.accelerator.num_processes
        self.progress = Progress(config.steps, enabled=not self.quiet and self.accelerator.is_main_process)

    def _setup_models(self) -> None:
        config = self.config
        fmt = torch.channels_last if config.channels_last else torch.contiguous_format
        self.generator.to(self.device, memory_format=fmt)
        self.discriminator.to(self.device, memory_format=fmt)
        opt_g = build_optimizer(self.generator.parameters(), self.optim_config.generator)
        opt_d = build_optimizer(self.discriminator.parameters(), self.optim_config.discriminator)
        self.ema = None
        if config.ema > 0:
            self.ema = ema_model(self.generator, config.ema)
        g_model, d_model, self.opt_g, self.opt_d = self.accelerator.prepare(
            self.generator, self.discriminator, opt_g, opt_d
        )
        if self.world > 1:  # the gradient penalty's double backward gives a [1, C, k, k] weight gradient strides
            # that differ from DDP's bucket only along its size-1 dimension: the same memory layout, a false alarm
            warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")
        if config.compile:
            g_model, d_model = torch.compile(g_model), torch.compile(d_model)
        self.g_model, self.d_model = g_model, d_model
        self._plain_steps = _wrappers_add_nothing(self.accelerator)
        self._d_has_batchnorm = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in self.discriminator.modules())
        self.noise = torch.Generator(device=self.device).manual_seed(self.seed * 100_003 + 104_729 * (self.rank + 1))
        fixed = torch.Generator().manual_seed(self.seed)
        rows = self.num_classes or 1
        per_row = max(1, config.grid_size // rows) if self.num_classes else config.grid_size
        self.fixed_z = torch.randn(rows * per_row, self.latent_dim, generator=fixed).to(self.device)
        self.fixed_c = (
            torch.arange(self.num_classes).repeat_interleave(per_row).to(self.device) if self.num_classes else None
        )

    @torch.no_grad()
    def _sample_shape(self) -> tuple[int, ...]:
        """One sample's shape, from the data when it says so, else from G itself (in eval mode: no side effects)."""
        info = getattr(self.data, "info", None)
        if info is not None:
            return tuple(info.shape)
        was_training = self.generator.training
        self.generator.eval()
        shape = tuple(self.generator(self.fixed_z[:1], None if self.fixed_c is None else self.fixed_c[:1]).shape[1:])
        self.generator.train(was_training)
        return shape

    def _tracking(self) -> tracking.Tracking:
        recipe = getattr(self.cards.get("generator"), "recipe", None)
        config = recipe or {"train": options_to_dict(self.config), "optim": options_to_dict(self.optim_config)}
        return tracking.Tracking(self.config.log_with, self.run_dir, name=str(config.get("name") or "ganzoo"),
                                 config=config, main_process=self.accelerator.is_main_process)

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

    def discriminator_step(self) -> None:
        """One critic update: real and fake through D in one forward (safe for BatchNorm under DDP)."""
        accum = self.config.grad_accum
        for micro in range(accum):
            x, c = self._real()
            with self._sync_unless_last(self.d_model, micro):
                with torch.no_grad():
                    fake = self.g_model(self._z(len(x)), c)  # fakes share the real batch's labels
                both_c = None if c is None else torch.cat([c, c])
                logits = self.d_model(torch.cat([x, fake.to(x.dtype)]), both_c).float()
                real_logits, fake_logits = logits[: len(x)], logits[len(x) :]
                loss = self.loss.d_loss(real_logits, fake_logits)
                penalty = self.loss.penalty(self.d_model, x, fake.to(x.dtype), c)
                total = loss if penalty is None else loss + penalty
                self._backward(total if accum == 1 else total / accum)
            self._record_d(loss, real_logits, fake_logits, penalty)
        self._optimizer_step(self.opt_d)
        self.loss.after_d_step(self.discriminator)

    def generator_step(self) -> None:
        """One generator update with D frozen as a whole (its gradients would leak otherwise)."""
        accum = self.config.grad_accum
        self.discriminator.requires_grad_(False)
        try:
            for micro in range(accum):
                n = self.config.batch_size
                c = self._labels(n)
                # D under no_sync too: a DDP forward with gradients on arms D's all-reduce hooks, no backward
                # reaches its frozen weights here, and the armed hooks would fire in D's next no_sync micro-batch
                with self._sync_unless_last(self.g_model, micro), self.accelerator.no_sync(self.d_model):
                    fake = self.g_model(self._z(n), c)
                    fake_logits, real_logits = self._g_step_logits(fake, c)
                    if self.loss.needs_real_logits:
                        loss = self.loss.g_loss(fake_logits, real_logits=real_logits)
                    else:
                        loss = self.loss.g_loss(fake_logits)
                    self._backward(loss if accum == 1 else loss / accum)
                self._last_g_loss = loss.detach().float()
                self._pending_g.append(self._last_g_loss)
            self._optimizer_step(self.opt_g)
        finally:
            self.discriminator.requires_grad_(True)
        if self.ema is not None:
            self.ema.update_parameters(self.generator)

    def _backward(self, loss: torch.Tensor) -> None:
        if self._plain_steps:
            loss.backward()
        else:
            self.accelerator.backward(loss)

    def _optimizer_step(self, optimizer: Any) -> None:
        inner = optimizer.optimizer if self._plain_steps else optimizer  # accelerate's AcceleratedOptimizer
        inner.step()
        inner.zero_grad(set_to_none=True)

    def _g_step_logits(
        self, fake: torch.Tensor, c: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """D's logits for G's step: fakes, and reals when D has BatchNorm or the loss needs them.

        A D with BatchNorm sees a real batch beside the fakes, as in its own step: batch statistics of fakes
        alone differ from the mixed ones D learned on, and G would chase the gap. Relativistic losses compare
        fakes with reals, so they get a fresh real batch too.
        """
        if not (self._d_has_batchnorm or self.loss.needs_real_logits):
            return self.d_model(fake, c).float(), None
        x, real_c = self._real()
        both_c = None if c is None else torch.cat([real_c, c])
        logits = self.d_model(torch.cat([x, fake.to(x.dtype)]), both_c).float()
        return logits[len(x) :], logits[: len(x)]

    def _set_learning_rates(self) -> None:
        """The schedule is a pure function of the step, so a resumed run needs no scheduler state."""
        if self.config.lr_decay == "none":
            return
        scale = 1.0 - self.step / self.config.steps
        for optimizer, options in ((self.opt_g, self.optim_config.generator), (self.opt_d, self.optim_config.discriminator)):
            for group in optimizer.param_groups:
                group["lr"] = options.lr * scale

    def train_step(self) -> None:
        self._set_learning_rates()
        for _ in range(self.config.d_steps):
            self.discriminator_step()
        self.generator_step()
        self.step += 1
        self._pending_steps.append((self.step, self._last_d_loss, self._last_g_loss))
        if len(self._pending_steps) >= FOLD_EVERY:
            self._fold()

    # ---------------------------------------------------------------- running figures
    def _reset_sums(self) -> None:
        if getattr(self, "_pending_steps", None):
            self._fold()  # the non-finite check outlives the sums
        zeros = lambda *shape: torch.zeros(*shape, device=self.device)  # noqa: E731
        self._d_sums, self._g_sum = zeros(4), zeros(())
        self._pending_d: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]] = []
        self._pending_g: list[torch.Tensor] = []
        self._pending_steps: list[tuple[int, torch.Tensor, torch.Tensor]] = []
        self._first_bad = getattr(self, "_first_bad", torch.full((), -1, dtype=torch.long, device=self.device))
        self._has_penalty = getattr(self, "_has_penalty", False)
        self._interval = (self.step, time.perf_counter())

    def _record_d(self, loss: torch.Tensor, real: torch.Tensor, fake: torch.Tensor, penalty: torch.Tensor | None) -> None:
        self._has_penalty = penalty is not None
        self._last_d_loss = loss.detach().float()
        self._pending_d.append((self._last_d_loss, real.detach(), fake.detach(),
                                None if penalty is None else penalty.detach().float()))

    def _fold(self) -> None:
        """Add the figures recorded since the last fold to the running sums, and note the first step whose loss
        was not finite. Batched ops on the device every FOLD_EVERY steps instead of a dozen small ones per step
        (they cost several percent of a small model's step), and never a host-device sync."""
        accum = self.config.grad_accum
        if self._pending_d:
            losses, reals, fakes, penalties = zip(*self._pending_d)
            logistic = self.loss.kind == "logistic"
            zero = torch.zeros((), device=self.device)
            values = torch.stack([
                torch.stack(losses), _means(reals, logistic), _means(fakes, logistic),
                torch.stack([zero if p is None else p for p in penalties]),
            ])
            self._d_sums += values.sum(dim=1) / accum
            self._pending_d.clear()
        if self._pending_g:
            self._g_sum += torch.stack(self._pending_g).sum() / accum
            self._pending_g.clear()
        if self._pending_steps:
            steps, d_last, g_last = zip(*self._pending_steps)
            bad = ~torch.isfinite(torch.stack(d_last) + torch.stack(g_last))
            if steps[-1] - steps[0] == len(steps) - 1:  # always, but for a resume between the records
                numbers = torch.arange(steps[0], steps[-1] + 1, device=self.device)
            else:  # pragma: no cover
                numbers = torch.tensor(steps, device=self.device)
            first = torch.where(bad, numbers, torch.iinfo(torch.long).max).min()
            self._first_bad = torch.where((self._first_bad < 0) & bad.any(), first, self._first_bad)
            self._pending_steps.clear()

    def _figures(self) -> dict[str, Any]:
        """Means since the last log, reduced across processes: the one place the host waits for the device."""
        self._fold()
        steps = max(1, self.step - self._interval[0])
        means = torch.cat([self._d_sums / (steps * self.config.d_steps), (self._g_sum / steps)[None]])
        means = self.accelerator.reduce(means, reduction="mean") if self.world > 1 else means
        values = means.tolist()
        elapsed = time.perf_counter() - self._interval[1]
        images = steps * self.config.batch_size * self.config.d_steps * self.config.grad_accum * self.world
        row = {"step": self.step, **dict(zip(D_FIELDS, values[:4])), "g_loss": values[4]}
        if not self._has_penalty:
            row.pop("penalty")
        row["d_output"] = "probability" if self.loss.kind == "logistic" else "raw"
        row["images_per_s"] = images / max(elapsed, 1e-9)  # real images through D, all processes together
        row["processes"] = self.world
        row["global_batch"] = self.config.batch_size * self.config.grad_accum * self.world  # per optimiser step
        row["wall_s"] = self.wall_offset + time.perf_counter() - self._started
        return row

    def _check_finite(self) -> None:
        self._fold()
        first = int(self._first_bad.item())
        if first >= 0:
            last = checkpoint.latest_checkpoint(self.run_dir / "checkpoints") if self.run_dir else None
            kept = f"; the last good checkpoint {last} is intact" if last else ""
            raise TrainingError(
                f"non-finite loss at step {first}: training stopped{kept}. "
                "Try a lower learning rate, a gradient penalty, or train.mixed_precision = 'no'"
            )

    # ---------------------------------------------------------------- the loop
    def fit(self, until: int | None = None) -> dict[str, Any]:
        """Train to ``until`` (default: ``train.steps``); returns the last logged figures.

        Ctrl-C finishes the current step, saves a checkpoint and raises KeyboardInterrupt.
        """
        total = min(self.config.steps if until is None else until, self.config.steps)  # until=0: nothing
        self._started = time.perf_counter()
        self._stop_requested = False  # a Ctrl-C that stopped an earlier fit() must not stop this one
        self._reset_sums()
        last: dict[str, Any] = {}
        self._prepare_run_dir()
        self.tracking.start(self.step)
        try:
            with self._stop_on_sigint():
                while self.step < total:
                    self.train_step()
                    self.progress.advance(self.step)
                    if self.world == 1 and self.progress.wants_early(self.step):  # figures before the first log
                        self.progress.early(self._figures())
                    for callback in self.callbacks:
                        callback(self)
                    if self.step % self.config.log_every == 0 or self.step == total:
                        self._check_finite()
                        last = self._log()
                    periodic = self.step < total  # finish() writes both at the last step
                    if periodic and self.config.sample_every and self.step % self.config.sample_every == 0:
                        self.save_samples()
                    if periodic and self.config.checkpoint_every and self.step % self.config.checkpoint_every == 0:
                        self.save_checkpoint()
                    if self._should_stop():
                        self.save_checkpoint()
                        self.progress.close()
                        raise KeyboardInterrupt(f"interrupted at step {self.step}; checkpoint saved")
            self._check_finite()
            self.finish()
            distributed.write_rank_digest(self)  # only with GANZOO_RANK_DIGEST set (tests, debugging)
        finally:  # a later fit() of this trainer goes on counting wall time from here
            self.tracking.close()
            self.wall_offset += time.perf_counter() - self._started
            self._started = time.perf_counter()
        return last

    def _log(self) -> dict[str, Any]:
        row = self._figures()
        self.progress.log(row)
        if self.run_dir is not None and self.accelerator.is_main_process:
            artifacts.MetricsLog(self.run_dir / "metrics.jsonl").append(row)
        self.tracking.log(row)
        self._reset_sums()
        return row

    def log_row(self, row: dict[str, Any]) -> None:
        """Append figures (an evaluation's, say) to metrics.jsonl under the current step."""
        if self.run_dir is not None and self.accelerator.is_main_process:
            artifacts.MetricsLog(self.run_dir / "metrics.jsonl").append({"step": self.step, **row})
        self.tracking.log({"step": self.step, **row})
        self.progress.log({"step": self.step, **row})

    def _should_stop(self) -> bool:
        if self.world == 1:
            return self._stop_requested
        flag = torch.tensor(float(self._stop_requested), device=self.device)
        return bool(self.accelerator.reduce(flag, reduction="sum").item() > 0)

    @contextlib.contextmanager
    def _stop_on_sigint(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def request_stop(signum: int, frame: Any) -> None:
            if self._stop_requested:  # a second Ctrl-C: stop now
                raise KeyboardInterrupt
            self._stop_requested = True

        previous = signal.signal(signal.SIGINT, request_stop)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    def finish(self) -> None:
        """Write the final checkpoint, weights, samples and curves."""
        distributed.broadcast_buffers(self)  # several processes: all end with the main one's BatchNorm statistics
        self.save_checkpoint()
        self.save_samples()
        if self.run_dir is not None and self.accelerator.is_main_process:
            artifacts.save_curves(artifacts.MetricsLog(self.run_dir / "metrics.jsonl").rows(), self.run_dir / "curves.png")
        self.progress.close()

    # ---------------------------------------------------------------- files
    def _prepare_run_dir(self) -> None:
        if self.run_dir is not None and self.accelerator.is_main_process:
            (self.run_dir / "samples").mkdir(parents=True, exist_ok=True)
            (self.run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
        if self.run_dir is not None and self.world > 1:  # the other processes write their checkpoint parts there
            self.accelerator.wait_for_everyone()

    def sampling_generator(self) -> nn.Module:
        return self.ema.module if self.ema is not None else self.generator

    @torch.no_grad()
    def save_samples(self) -> Path | None:
        if self.run_dir is None or not self.accelerator.is_main_process:
            return None
        model = self.sampling_generator()
        was_training = model.training
        model.eval()
        samples = model(self.fixed_z, self.fixed_c)
        model.train(was_training)
        reference = None
        if samples.dim() == 2:
            reference = self._reference_points(len(samples) * 4)
        path = self.run_dir / "samples" / f"step-{self.step:06d}.png"
        artifacts.save_samples(samples, path, rows=self.num_classes or None, reference=reference,
                               title=f"step {self.step}")
        self.tracking.image(path, self.step)
        return path

    def _reference_points(self, n: int) -> torch.Tensor | None:
        if callable(getattr(self.data, "sample", None)):
            return self.data.sample(n, torch.Generator().manual_seed(self.seed))[0]
        if callable(getattr(self.data, "tensors", None)):
            return self.data.tensors()[0][:n]
        return None

    def state_dict(self) -> dict[str, Any]:
        """Everything resuming needs, this process's random streams included."""
        state = {
            "step": self.step,
            "wall_s": self.wall_offset + time.perf_counter() - getattr(self, "_started", time.perf_counter()),
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "batches": self.batches.state_dict(),
            "rng": {"torch": torch.get_rng_state(), "noise": self.noise.get_state()},
            "processes": self.world,
        }
        if torch.cuda.is_available():
            state["rng"]["cuda"] = torch.cuda.get_rng_state_all()
        if self.ema is not None:
            state["ema"] = self.ema.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step = int(state["step"])
        self.wall_offset = float(state["wall_s"])
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.batches.load_state_dict(state["batches"])
        torch.set_rng_state(state["rng"]["torch"])
        self.noise.set_state(state["rng"]["noise"])
        if "cuda" in state["rng"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])
        if self.ema is not None and "ema" in state:
            self.ema.load_state_dict(state["ema"])

    def save_checkpoint(self) -> Path | None:
        """Checkpoint (atomic) plus the current weights; every process keeps its own random streams."""
        if self.run_dir is None:
            return None
        self._check_finite()
        folder = self.run_dir / "checkpoints"
        state = self.state_dict()
        path = checkpoint.checkpoint_path(folder, self.step)
        if self.world > 1:
            mine = {"batches": state["batches"], "rng": state["rng"]}
            checkpoint.save_checkpoint(path.with_suffix(f".rank{self.rank}.safetensors"), mine)
            self.accelerator.wait_for_everyone()
        if self.accelerator.is_main_process:
            checkpoint.save_checkpoint(path, state)
            checkpoint.prune_checkpoints(folder)
            self.save_weights()
        return path

    def resume(self, run_dir: str | Path | None = None) -> int:
        """Load the newest checkpoint of ``run_dir`` (default: this trainer's); returns the step reached."""
        folder = Path(run_dir or self.run_dir or ".") / "checkpoints"
        path, state = self._readable_checkpoint(folder)
        if int(state.get("processes", 1)) != self.world:  # allowed, but the data and noise streams change
            self.progress.message(f"{path}: written by {state.get('processes', 1)} process(es), resumed on "
                                  f"{self.world}: training goes on, but not exactly as the original run would")
        if self.world > 1:
            mine = path.with_suffix(f".rank{self.rank}.safetensors")
            if not mine.is_file():
                raise GanzooError(f"{mine}: missing; this run was not trained with {self.world} processes "
                                  "(or not this many): resume it with as many processes as it was started with")
            state.update(checkpoint.load_checkpoint(mine))
        try:
            self.load_state_dict(state)
        except (RuntimeError, KeyError, ValueError, TypeError) as err:  # another recipe's models, say
            first = " ".join(line.strip() for line in str(err).strip().splitlines()[:2]) or type(err).__name__
            raise GanzooError(
                f"{path}: the checkpoint does not fit these models or optimisers ({first}); "
                "resume with the run's own recipe"
            ) from None
        if self.run_dir is not None and self.accelerator.is_main_process:
            artifacts.MetricsLog(self.run_dir / "metrics.jsonl").truncate_after(self.step)
        return self.step

    def _readable_checkpoint(self, folder: Path) -> tuple[Path, dict[str, Any]]:
        """The newest checkpoint that reads, falling back to the one before when the newest was damaged
        after it was written (writes are atomic, but disks and copies fail): two are kept for this."""
        found = checkpoint.checkpoints(folder)
        if not found:
            raise GanzooError(f"{folder}: no checkpoint to resume from")
        for path in found:
            try:
                return path, checkpoint.load_checkpoint(path)
            except GanzooError as err:
                if path == found[-1]:
                    raise
                note = f"{err}; resuming from the checkpoint before it"
                if self.progress.enabled:
                    self.progress.message(note)
                elif self.accelerator.is_main_process:  # quiet, but losing steps is worth a line
                    print(note, file=sys.stderr, flush=True)
        raise AssertionError("unreachable")  # pragma: no cover

    def save_weights(self) -> None:
        """``generator.safetensors`` (and EMA, discriminator) with self-describing metadata."""
        assert self.run_dir is not None
        roles = {"generator": self.generator, "discriminator": self.discriminator}
        if self.ema is not None:
            roles["generator-ema"] = self.ema.module
        for role, module in roles.items():
            card = self.cards.get("discriminator" if role == "discriminator" else "generator")
            if card is None:
                card = ModelCard(role=role, component=None, plugin=None, options={}, shape=self.sample_shape,
                                 num_classes=self.num_classes, latent_dim=self.latent_dim)
            card = copy.copy(card)
            object.__setattr__(card, "role", role)
            object.__setattr__(card, "step", self.step)
            save_weights(module, self.run_dir / f"{role}.safetensors", card)


def _means(logits: tuple[torch.Tensor, ...], logistic: bool) -> torch.Tensor:
    """Each batch's mean D output (probability for a logistic loss, raw score otherwise), batched when the
    batches are all of one size."""
    if len({t.shape for t in logits}) == 1:
        stacked = torch.stack(logits).float().flatten(1)
        return (torch.sigmoid(stacked) if logistic else stacked).mean(dim=1)
    return torch.stack([(torch.sigmoid(t.float()) if logistic else t.float()).mean() for t in logits])


def _wrappers_add_nothing(accelerator: Any) -> bool:
    """Whether accelerate's ``backward`` and optimizer wrappers would only call ``loss.backward()``,
    ``optimizer.step()`` and ``zero_grad()``: true unless a gradient scaler (fp16), accelerate's own gradient
    accumulation, DeepSpeed, Megatron-LM or XLA is in play. Calling torch directly then saves per-step Python
    that showed in profiles of small models: an importlib lookup (``is_lomo_available``) in every optimizer
    step, a signature inspection in every ``zero_grad``, a division by 1 in every backward.
    """
    from accelerate.utils import DistributedType

    special = (DistributedType.DEEPSPEED, DistributedType.MEGATRON_LM, DistributedType.XLA)
    return (accelerator.scaler is None and accelerator.gradient_accumulation_steps == 1
            and accelerator.distributed_type not in special)


def _resolve_loss(loss: str | GANLoss) -> GANLoss:
    if isinstance(loss, GANLoss):
        return loss
    if isinstance(loss, str):
        from ganzoo.registry import registries

        component = registries().component("loss", loss)
        return component.load_factory()(component.parse({}))
    raise TypeError(f"loss must be a registered name or a GANLoss, not {type(loss).__name__}")
