"""Optimisers from a recipe's ``[optim.generator]`` / ``[optim.discriminator]`` tables."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

from ganzoo.errors import GanzooError
from ganzoo.training.options import OptimizerOptions


def build_optimizer(params: Iterable[torch.nn.Parameter], options: OptimizerOptions) -> torch.optim.Optimizer:
    if options.name == "rmsprop" and options.implementation == "fused":  # torch's RMSprop takes no `fused`
        raise GanzooError("rmsprop has no fused implementation in torch: use implementation = \"foreach\" "
                          "(or \"auto\") for it")
    kernels = {"auto": {}, "foreach": {"foreach": True}, "fused": {"fused": True}, "for-loop": {"foreach": False}}
    extra = kernels[options.implementation]
    if options.name == "adam":
        return torch.optim.Adam(params, lr=options.lr, betas=options.betas, weight_decay=options.weight_decay, **extra)
    if options.name == "adamw":
        return torch.optim.AdamW(params, lr=options.lr, betas=options.betas, weight_decay=options.weight_decay, **extra)
    if options.name == "rmsprop":
        return torch.optim.RMSprop(params, lr=options.lr, momentum=options.momentum,
                                   weight_decay=options.weight_decay, **extra)
    return torch.optim.SGD(params, lr=options.lr, momentum=options.momentum, weight_decay=options.weight_decay, **extra)


def decay_learning_rates(pairs: Iterable[tuple[Any, OptimizerOptions]], done: float) -> None:
    """Each ``(optimizer, options)``'s learning rate at ``1 - done`` of the options' (linear decay, ``done`` the
    share of steps trained): a pure function of the step, so a resumed run needs no scheduler state."""
    for optimizer, options in pairs:
        for group in optimizer.param_groups:
            group["lr"] = options.lr * (1.0 - done)
