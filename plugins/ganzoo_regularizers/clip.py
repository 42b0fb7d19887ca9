"""Weight clipping (WGAN): a constraint after D's optimiser step, not a term of its loss.

Clamping every weight keeps the critic in a compact set of functions, hence K-Lipschitz for some K that
depends on the bound; the WGAN paper's 0.01 with RMSprop. The recipe's ``weight`` is not used (a constraint
has no strength), and ``every`` spaces the clamps out.
"""

from __future__ import annotations

from typing import Any

import torch

from ganzoo.plugin import Regularizer
from ganzoo_regularizers.options import ClipOptions


class WeightClip(Regularizer):
    def __init__(self, options: ClipOptions | None = None) -> None:
        self.bound = (options or ClipOptions()).bound

    @torch.no_grad()
    def after_d_step(self, discriminator: Any) -> None:
        params = [p for p in discriminator.parameters() if p.is_floating_point()]
        if params:
            torch._foreach_clamp_min_(params, -self.bound)
            torch._foreach_clamp_max_(params, self.bound)
