"""What a trainer works with, assembled from built objects: the parts :class:`~ganzoo.training.trainer.Trainer`
steps, logs and checkpoints.

Assembly is kept apart from the trainer's file so that file holds the loop and Algorithm 1 alone, read top to
bottom. The order below is the order of construction, which a run's results depend on (the models reach the
device before the optimisers are built; the data and noise streams are seeded per process), so moving a line
can change what a recipe trains to. Everything here is a built object or an option; names of components
are resolved before (:mod:`ganzoo.build`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganzoo import contracts
from ganzoo.components import GANLoss, Regularization, Regularizer
from ganzoo.run_folder import RunFolder
from ganzoo.training import distributed, fast
from ganzoo.training.batches import make_batches
from ganzoo.training.figures import RunningFigures
from ganzoo.training.gstep import g_step_inputs
from ganzoo.training.models import prepare_models
from ganzoo.training.options import OptimSection, TrainOptions, train_options
from ganzoo.training.outputs import RunOutputs
from ganzoo.training.progress import Progress
from ganzoo.training.state import TrainingState
from ganzoo.training.streams import NoiseStreams
from ganzoo.training.view import Callback, Observer
from ganzoo.weights import ModelCard


class TrainerParts:
    """G and D as given (``generator``, ``discriminator``) and as the step calls them (``g_model``,
    ``d_model``: wrapped by accelerate, compiled when asked), their optimisers, the EMA copy, the loss and
    regularisations, the resolved options (``config``, ``optim_config``), the processes (``accelerator``),
    the data (``batches``) and noise (``streams``), what a checkpoint holds (``state``), what the run writes
    (``outputs``) and the running figures. ``step`` counts generator steps, ``d_updates`` critic steps."""

    def __init__(
        self, generator: nn.Module, discriminator: nn.Module, loss: GANLoss, data: Any, *,
        train: TrainOptions | None = None, optim: OptimSection | None = None, seed: int = 0,
        num_classes: int | None = None, run_dir: str | Path | RunFolder | None = None, quiet: bool = False,
        cards: dict[str, ModelCard] | None = None, callbacks: list[Callback] | None = None,
        observers: list[Observer] | None = None, regularizers: Iterable[Regularization | Regularizer] = (),
        augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None, **options: Any,
    ) -> None:
        train = train_options(train, options)
        if not isinstance(loss, GANLoss):
            raise TypeError(f"loss must be a GANLoss (ganzoo.build_loss(name) builds one), not {type(loss).__name__}")
        self.generator, self.discriminator, self.loss, self.data = generator, discriminator, loss, data
        self.regularizations = [r if isinstance(r, Regularization) else Regularization(r) for r in regularizers]
        penalised = any(type(r.regularizer).penalty is not Regularizer.penalty for r in self.regularizations)
        # train.fast's choice written into the options: what runs is what the resolved recipe says
        train, optim = fast.resolve(train, optim or OptimSection(), generator, discriminator, has_penalty=penalised)
        self.config, self.optim_config = train, optim
        self.fast_paths, self._announced = fast.summary(train, optim), False
        self.augment, self.d_updates, self.seed, self.quiet = augment, 0, seed, quiet
        self.latent_dim = int(generator.latent_dim)  # the generator contract (ganzoo.contracts.Generator)
        self.num_classes = int(num_classes if num_classes is not None else contracts.num_classes(generator))
        folder = run_dir if isinstance(run_dir, RunFolder) or run_dir is None else RunFolder(Path(run_dir))
        self.callbacks, self.step = list(callbacks or []), 0
        self.adaptive = contracts.adaptive(augment)  # ADA: watches D's logits on reals (ganzoo.contracts)
        self.accelerator = distributed.setup_accelerator(train)
        self.device = self.accelerator.device
        self.rank, self.world = self.accelerator.process_index, self.accelerator.num_processes
        self.progress = Progress(train.steps, enabled=not quiet and self.accelerator.is_main_process)
        self.stop = distributed.StopSignal(self.accelerator)
        ready = prepare_models(generator, discriminator, train, optim, self.accelerator)
        self.g_model, self.d_model, self.opt_g, self.opt_d = ready.g_model, ready.d_model, ready.opt_g, ready.opt_d
        self.ema, self._plain_d, self._plain_steps = ready.ema, ready.plain_d, ready.plain_steps
        self._latent_codes = contracts.latent_codes(generator)  # a generator that owns its prior, or None
        d_has_batchnorm = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in discriminator.modules())
        self._g_inputs = g_step_inputs(train.g_step_batchnorm, d_has_batchnorm=d_has_batchnorm,
                                       loss_needs_reals=loss.needs_real_logits)
        self._last_real: tuple[torch.Tensor, torch.Tensor | None] | None = None
        self._kept_fakes: tuple[torch.Tensor, torch.Tensor | None, torch.Tensor] | None = None  # (z, c, G(z, c))
        self.streams = NoiseStreams(seed, self.rank, self.device)
        self.batches = make_batches(data, train.batch_size, seed=seed, device=self.device, rank=self.rank,
                                    world=self.world, prepare_loader=self.accelerator.prepare_data_loader)
        self.state = TrainingState(generator, discriminator, self.opt_g, self.opt_d, self.batches, self.streams,
                                   self.world, ema=self.ema, adaptive=self.adaptive)  # what a checkpoint holds
        self.outputs = RunOutputs.for_run(folder, self.accelerator, self.progress, generator=generator, data=data,
                                          seed=seed, latent_dim=self.latent_dim, num_classes=self.num_classes,
                                          train=train, cards=cards, observers=list(observers or []))
        self.figures = RunningFigures.for_run(train, self.accelerator, logistic=loss.family == "logistic",
                                              penalty=penalised)

    @property
    def folder(self) -> RunFolder | None:
        return self.outputs.folder
