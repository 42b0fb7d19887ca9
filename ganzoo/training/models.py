"""G and D made ready to train: on the device, with their optimisers, the EMA copy, and accelerate's
wrappers (DDP, autocast), compiled when asked. The trainer steps what this returns."""

from __future__ import annotations

import warnings
from typing import Any

import attrs
import torch
from torch import nn

from ganzoo.training import distributed
from ganzoo.training.ema import ema_model
from ganzoo.training.optim import build_optimizer
from ganzoo.training.options import OptimSection, TrainOptions


@attrs.frozen
class Prepared:
    """``g_model``/``d_model``: G and D as the step calls them (wrapped); ``plain_d``: D outside every wrapper
    (what penalties differentiate); ``plain_steps``: whether accelerate's backward and step wrappers add
    nothing here, so that torch's own are called."""

    g_model: nn.Module
    d_model: nn.Module
    opt_g: Any
    opt_d: Any
    ema: Any
    plain_d: Any
    plain_steps: bool


def prepare_models(generator: nn.Module, discriminator: nn.Module, config: TrainOptions, optim: OptimSection,
                   accelerator: Any) -> Prepared:
    fmt = torch.channels_last if config.channels_last else torch.contiguous_format
    generator.to(accelerator.device, memory_format=fmt)
    discriminator.to(accelerator.device, memory_format=fmt)
    opt_g = build_optimizer(generator.parameters(), optim.generator)
    opt_d = build_optimizer(discriminator.parameters(), optim.discriminator)
    ema = ema_model(generator, config.ema) if config.ema > 0 else None
    g_model, d_model, opt_g, opt_d = accelerator.prepare(generator, discriminator, opt_g, opt_d)
    if accelerator.num_processes > 1:  # the gradient penalty's double backward gives a [1, C, k, k] weight
        # gradient strides that differ from DDP's bucket only along its size-1 dimension: a false alarm
        warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")
    if config.compile:
        g_model, d_model = torch.compile(g_model), torch.compile(d_model)
    return Prepared(g_model, d_model, opt_g, opt_d, ema, distributed.plain_forward(d_model),
                    distributed.wrappers_add_nothing(accelerator))
