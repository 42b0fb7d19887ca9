"""Wasserstein GAN: the critic estimates the earth-mover distance through its Kantorovich dual.

The dual form only holds for a 1-Lipschitz critic, so the loss carries the constraint with it:
weight clipping (WGAN, ``after_d_step``) or a gradient penalty (WGAN-GP, ``penalty``). Both live here and
not in the trainer so that the schedule (k critic steps, optimisers) stays loss-agnostic.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, Literal

import torch
from torch import nn

from ganzoo.components import GANLoss
from ganzoo_losses.options import WassersteinOptions


class WassersteinLoss(GANLoss):
    """Critic: E[f(G(z))] - E[f(x)]; generator: -E[f(G(z))]. Scores are raw, unbounded critic values."""

    kind: Literal["logistic", "critic"] = "critic"

    def __init__(self, options: WassersteinOptions | None = None) -> None:
        self.options = options if options is not None else WassersteinOptions()

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        return fake_logits.mean() - real_logits.mean()

    def g_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        return -fake_logits.mean()

    def penalty(
        self, critic: Callable[..., torch.Tensor], real: torch.Tensor, fake: torch.Tensor, c: torch.Tensor | None
    ) -> torch.Tensor | None:
        if self.options.lipschitz != "gradient-penalty":
            return None
        return self.options.gp_weight * gradient_penalty(critic, real, fake, c)

    @torch.no_grad()
    def after_d_step(self, critic: Any) -> None:
        if self.options.lipschitz != "clip":
            return
        bound = self.options.clip
        for param in critic.parameters():
            param.clamp_(-bound, bound)


def gradient_penalty(
    critic: Callable[..., torch.Tensor], real: torch.Tensor, fake: torch.Tensor, c: torch.Tensor | None = None
) -> torch.Tensor:
    """mean over samples of (||grad_x f(x_hat, c)||_2 - 1)^2 at random points between real and fake.

    Two details published implementations got wrong, and why they matter:

    - the interpolation weight is drawn per *sample* (shape [N, 1, 1, ...]); one weight per element would
      sample points off the lines between pairs, one per batch would sample a single line position;
    - the norm is taken per sample over all non-batch dims, so the constraint is on each sample's gradient,
      for any number of channels and dimensions, not on the batch's gradient as one vector.

    It runs in float32 with autocast off (see :func:`_plain_forward` for models whose forward turns it back
    on): under fp16 the second-order gradient overflows or underflows and WGAN-GP silently turns into NaN.
    ``create_graph=True`` makes the penalty trainable. The critic sees detached points, so nothing flows into
    the generator. (A critic with batch normalisation couples samples and breaks the per-sample gradient:
    the WGAN-GP paper uses layer norm or none.)
    """
    real, fake = real.detach(), fake.detach()
    with _autocast_off(real.device.type):
        dtype = _input_dtype(critic)
        alpha = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), device=real.device, dtype=torch.float32)
        x_hat = (alpha * real.float() + (1.0 - alpha) * fake.float()).to(dtype).requires_grad_(True)
        scores = _plain_forward(critic)(x_hat, c)
        (grad,) = torch.autograd.grad(scores.float().sum(), x_hat, create_graph=True)
        norms = torch.linalg.vector_norm(grad.float().flatten(1), ord=2, dim=1)
        return (norms - 1.0).square().mean()


def _plain_forward(critic: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    """The critic's own forward, without two wrappers that defeat this penalty.

    - accelerate's mixed precision replaces ``model.forward`` by one that enters autocast *inside* the call
      (keeping the original as ``model._original_forward``), so an autocast switched off around the call
      would not reach the critic's layers;
    - ``torch.compile`` does not support the double backward that ``create_graph=True`` needs.

    Skipping a DistributedDataParallel wrapper here is safe: the same parameters already went through its
    forward for the D loss in this step, and their gradients from both terms meet in one backward. Anything
    that is neither is called as given.
    """
    module = getattr(critic, "_orig_mod", critic)  # torch.compile's OptimizedModule
    inner = module.module if isinstance(module, (nn.parallel.DistributedDataParallel, nn.DataParallel)) else module
    original = getattr(inner, "_original_forward", None)  # accelerate's mixed-precision patch
    return original if original is not None else module


def _input_dtype(critic: Any) -> torch.dtype:
    """float32, unless the critic's own weights are in lower precision (a model cast with ``.half()``), whose
    layers would refuse float32 input; the norm and the penalty are still computed in float32 then."""
    params: Iterator[torch.Tensor] = critic.parameters() if hasattr(critic, "parameters") else iter(())
    for param in params:
        if param.is_floating_point():
            return param.dtype if param.dtype in (torch.float16, torch.bfloat16) else torch.float32
    return torch.float32


def _autocast_off(device_type: str) -> contextlib.AbstractContextManager[Any]:
    try:
        enabled = torch.is_autocast_enabled(device_type)
    except RuntimeError:  # a device type without autocast support
        enabled = False
    return torch.autocast(device_type=device_type, enabled=False) if enabled else contextlib.nullcontext()
