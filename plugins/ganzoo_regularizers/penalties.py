"""Penalties on the gradient of D's output with respect to its input.

All of them differentiate D at some points x: the WGAN-GP gradient penalty between reals and fakes, R1 on
reals, R2 on fakes, DRAGAN around the reals. ``batch.critic`` is D as the trainer runs it in this step (the
run's augmentation included, outside DDP and autocast wrappers: torch.compile and accelerate's autocast
patch defeat the double backward), so a penalty here sees what D's loss saw.

Two details that published implementations got wrong, and why they matter:

- the interpolation weight of the gradient penalty is drawn per *sample* (shape [N, 1, 1, ...]); one weight
  per element would sample points off the lines between pairs, one per batch a single line position;
- norms are taken per sample over all non-batch dimensions, so the constraint is on each sample's gradient,
  for any number of channels and dimensions, not on the batch's gradient as one vector.

Everything runs in float32 with autocast off: under fp16 the second-order gradient overflows or underflows
and WGAN-GP silently turns into NaN. ``create_graph=True`` makes the penalty trainable; the points are
detached, so nothing flows into the generator. (A critic with batch normalisation couples samples and breaks
the per-sample gradient: the WGAN-GP paper uses layer norm or none.)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import torch

from ganzoo.plugin import DBatch, DOutput, Regularizer
from ganzoo_regularizers.options import DraganOptions, GradientPenaltyOptions


def input_gradient(critic: Callable[..., Any], x: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
    """d sum(D(x, c).logits) / dx per sample, in float32, with the graph kept for the penalty's backward."""
    with _autocast_off(x.device.type):
        dtype = x.dtype if x.dtype in (torch.float16, torch.bfloat16) else torch.float32
        x = x.detach().to(dtype).requires_grad_(True)
        logits = DOutput.of(critic(x, c)).logits
        (grad,) = torch.autograd.grad(logits.float().sum(), x, create_graph=True)
    return grad.float().flatten(1)


def gradient_penalty(critic: Callable[..., Any], real: torch.Tensor, fake: torch.Tensor, c: torch.Tensor | None = None,
                     *, one_sided: bool = False) -> torch.Tensor:
    """mean over samples of (||grad_x D(x_hat, c)||_2 - 1)^2 at x_hat = alpha x + (1 - alpha) G(z), alpha ~ U[0, 1)
    per sample; ``one_sided`` penalises only norms above 1."""
    real, fake = real.detach().float(), fake.detach().float()
    alpha = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), device=real.device, dtype=torch.float32)
    norms = torch.linalg.vector_norm(input_gradient(critic, alpha * real + (1.0 - alpha) * fake, c), dim=1)
    gap = norms - 1.0
    return (gap.clamp(min=0.0) if one_sided else gap).square().mean()


def zero_centred(critic: Callable[..., Any], x: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
    """mean over samples of ||grad_x D(x, c)||^2 / 2: R1 on reals, R2 on fakes (weight = gamma)."""
    return 0.5 * input_gradient(critic, x, c).square().sum(dim=1).mean()


class GradientPenalty(Regularizer):
    def __init__(self, options: GradientPenaltyOptions | None = None) -> None:
        self.one_sided = (options or GradientPenaltyOptions()).one_sided

    def penalty(self, batch: DBatch) -> torch.Tensor:
        return gradient_penalty(batch.critic, batch.real, batch.fake, batch.labels, one_sided=self.one_sided)


class R1(Regularizer):
    def __init__(self, options: Any = None) -> None:
        pass

    def penalty(self, batch: DBatch) -> torch.Tensor:
        return zero_centred(batch.critic, batch.real, batch.labels)


class R2(Regularizer):
    def __init__(self, options: Any = None) -> None:
        pass

    def penalty(self, batch: DBatch) -> torch.Tensor:
        return zero_centred(batch.critic, batch.fake, batch.labels)


class Dragan(Regularizer):
    """Kodali et al. 2017: the gradient norm pushed to 1 in a neighbourhood of the data, where mode collapse
    shows as sharp gradients; the perturbation is ``scale * std(x) * U[0, 1)`` per element."""

    def __init__(self, options: DraganOptions | None = None) -> None:
        self.scale = (options or DraganOptions()).scale

    def penalty(self, batch: DBatch) -> torch.Tensor:
        real = batch.real.detach().float()
        noisy = real + self.scale * real.std() * torch.rand_like(real)
        norms = torch.linalg.vector_norm(input_gradient(batch.critic, noisy, batch.labels), dim=1)
        return (norms - 1.0).square().mean()


def _autocast_off(device_type: str) -> contextlib.AbstractContextManager[Any]:
    try:
        enabled = torch.is_autocast_enabled(device_type)
    except RuntimeError:  # a device type without autocast support
        enabled = False
    return torch.autocast(device_type=device_type, enabled=False) if enabled else contextlib.nullcontext()
