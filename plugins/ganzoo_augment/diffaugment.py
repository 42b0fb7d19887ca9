"""DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training").

Each transform is a differentiable function of the image with random parameters drawn per sample from the
generator the trainer passes in (its state is part of the checkpoint, so a resumed run draws the same):

- color: brightness + U(-0.5, 0.5); saturation (distance to the per-pixel channel mean) x U(0, 2);
  contrast (distance to the image mean) x U(0.5, 1.5);
- translation: a shift of up to ``translation`` x side pixels in each direction, zeros shifted in;
- cutout: a square of ``cutout`` x side set to zero at a random place (it may be clipped by the border).

Gradients flow through all three to the input, which is what lets G learn through an augmented D.
``probability`` < 1 transforms a random share of the samples only; the others pass unchanged. With
``adaptive = true`` that share is ADA's p (:mod:`ganzoo_augment.adaptive`): the trainer shows it D's logits on
reals (``observe``), logs ``figures()`` and keeps ``state_dict()`` in its checkpoints.
"""

from __future__ import annotations

import torch

from typing import Any

from ganzoo_augment.adaptive import AdaptiveProbability
from ganzoo_augment.options import DiffAugmentOptions


class DiffAugment:
    def __init__(self, options: DiffAugmentOptions | None = None, *, shape: tuple[int, ...] = ()) -> None:
        self.options = options or DiffAugmentOptions()
        self.transforms = [getattr(self, f"_{name}") for name in self.options.policy]
        options = self.options
        self.adaptive = (AdaptiveProbability(target=options.target, interval=options.interval, speed=options.speed)
                         if options.adaptive else None)

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        if x.dim() != 4:
            raise ValueError(f"DiffAugment transforms image batches [N, C, H, W], got shape {list(x.shape)}")
        out = x
        for transform in self.transforms:
            out = transform(out, generator)
        if self.adaptive is not None:
            keep = _uniform((len(x), 1, 1, 1), generator, x) >= self.adaptive.on(x.device)
            out = torch.where(keep, x, out)
        elif self.options.probability < 1.0:
            keep = _uniform((len(x), 1, 1, 1), generator, x) >= self.options.probability
            out = torch.where(keep, x, out)
        return out

    # what the trainer calls on any augmentation that has it (ADA's p; nothing without adaptive = true)
    def observe(self, real_logits: torch.Tensor) -> None:
        if self.adaptive is not None:
            self.adaptive.observe(real_logits)

    def figures(self) -> dict[str, float]:
        return {} if self.adaptive is None else {"p": float(self.adaptive.p)}

    def state_dict(self) -> dict[str, Any]:
        return {} if self.adaptive is None else self.adaptive.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.adaptive is not None and state:
            self.adaptive.load_state_dict(state)

    @staticmethod
    def _color(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        n = len(x)
        x = x + (_uniform((n, 1, 1, 1), generator, x) - 0.5)
        mean = x.mean(dim=1, keepdim=True)
        x = (x - mean) * (_uniform((n, 1, 1, 1), generator, x) * 2.0) + mean
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        return (x - mean) * (_uniform((n, 1, 1, 1), generator, x) + 0.5) + mean

    def _translation(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        n, _, h, w = x.shape
        sy, sx = int(h * self.options.translation + 0.5), int(w * self.options.translation + 0.5)
        if not (sy or sx):
            return x
        dy = _integers(-sy, sy + 1, n, generator, x)
        dx = _integers(-sx, sx + 1, n, generator, x)
        padded = torch.nn.functional.pad(x, (sx, sx, sy, sy))
        rows = (torch.arange(h, device=x.device)[None, :] - dy[:, None] + sy)  # [N, H]: source row in padded
        cols = (torch.arange(w, device=x.device)[None, :] - dx[:, None] + sx)  # [N, W]
        batch = torch.arange(n, device=x.device)[:, None, None]
        # padded[b, :, rows[b, i], cols[b, j]] for every b, i, j: advanced indexing puts the channels last
        return padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)

    def _cutout(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        n, _, h, w = x.shape
        ch, cw = int(h * self.options.cutout + 0.5), int(w * self.options.cutout + 0.5)
        if not (ch and cw):
            return x
        cy = _integers(0, h + (1 - ch % 2), n, generator, x)
        cx = _integers(0, w + (1 - cw % 2), n, generator, x)
        ys = torch.arange(h, device=x.device)[None, :] - (cy[:, None] - ch // 2)  # [N, H]: 0 <= ys < ch inside
        xs = torch.arange(w, device=x.device)[None, :] - (cx[:, None] - cw // 2)
        inside = ((ys >= 0) & (ys < ch))[:, :, None] & ((xs >= 0) & (xs < cw))[:, None, :]
        return x * (~inside)[:, None].to(x.dtype)


def _uniform(shape: tuple[int, ...], generator: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    return torch.rand(shape, generator=generator, device=like.device, dtype=torch.float32).to(like.dtype)


def _integers(low: int, high: int, n: int, generator: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    return torch.randint(low, high, (n,), generator=generator, device=like.device)
