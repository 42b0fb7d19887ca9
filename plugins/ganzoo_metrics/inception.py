"""FID, Inception Score and KID with Inception v3 weights that the user already has on local disk.

ganzoo never downloads weights: the metric reads a torchvision ``inception_v3`` state dict from
``inception.weights`` (or ``$GANZOO_INCEPTION_WEIGHTS``) with ``torch.load(weights_only=True)``, and says
so in one line when neither is set. The number of classes and the auxiliary head are read off the state
dict, so torchvision's ImageNet weights (1000 classes) and state dicts of the 1008-class TF port load alike.
Figures are comparable with published FIDs only for the very network they used (pytorch-fid's FID blocks
differ slightly from torchvision's): compare runs measured with the same weights file.

Images in [-1, 1] (Inception's own input range) are given 3 channels and resized to ``image_size``.
Real images come from the training split (at most as many as generated samples).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.errors import GanzooError
from ganzoo.evaluation.frechet import frechet_from_features
from ganzoo.evaluation.warn import warn
from ganzoo_metrics.options import INCEPTION_ENV, InceptionOptions


def weights_path(options: InceptionOptions) -> Path | None:
    """The configured weights file (option first, then the environment), or None."""
    text = options.weights.strip() or os.environ.get(INCEPTION_ENV, "").strip()
    return Path(text).expanduser() if text else None


def require_weights(options: InceptionOptions) -> Path:
    path = weights_path(options)
    if path is None:
        raise GanzooError(
            "inception: no Inception v3 weights on this machine; ganzoo never downloads them. Point to a local "
            f"torchvision inception_v3 state dict with --set inception.weights=/path/to/weights.pth or {INCEPTION_ENV}"
        )
    if not path.is_file():
        raise GanzooError(f"inception: weights file {path} does not exist")
    return path


class InceptionFeatures(nn.Module):
    """torchvision's Inception v3 up to its 2048-wide pooled features, and its logits; ``forward`` gives both."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        net = self.net
        for name in ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1",
                     "Conv2d_4a_3x3", "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b",
                     "Mixed_6c", "Mixed_6d", "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c", "avgpool"):
            x = getattr(net, name)(x)
        features = torch.flatten(x, 1)
        return features, net.fc(features)


def load_network(path: Path) -> nn.Module:
    """An ``nn.Module`` mapping images to (features [N, F], logits [N, K]) from a local state dict."""
    from torchvision.models import inception_v3

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # pickle errors, truncated files, forbidden globals: all one user-facing line
        first = next((line.strip() for line in str(err).splitlines() if line.strip()), "")[:300]
        raise GanzooError(f"inception: cannot read {path} as a state dict of tensors ({type(err).__name__}: "
                          f"{first}); nothing in it was run") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not isinstance(state.get("fc.weight"), torch.Tensor):
        raise GanzooError(f"inception: {path} is not a torchvision inception_v3 state dict (no fc.weight)")
    aux = any(key.startswith("AuxLogits.") for key in state)
    net = inception_v3(weights=None, aux_logits=aux, init_weights=False, num_classes=state["fc.weight"].shape[0])
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as err:
        first = " ".join(str(err).strip().splitlines()[:2])
        raise GanzooError(f"inception: {path} does not fit torchvision's inception_v3: {first}") from None
    return InceptionFeatures(net)


def prepare(x: torch.Tensor, size: int) -> torch.Tensor:
    """[-1, 1] images as 3-channel ``size`` x ``size`` input."""
    x = x.float()
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    if x.shape[-2:] != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    return x


@torch.no_grad()
def features_and_logits(
    net: nn.Module, x: torch.Tensor, options: InceptionOptions, device: Any
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pooled features and logits of every image, in float64 on the CPU."""
    feats, logits = [], []
    for chunk in x.split(options.batch_size):
        f, logit = net(prepare(chunk.to(device), options.image_size))
        feats.append(f.double().cpu())
        logits.append(logit.double().cpu())
    return torch.cat(feats), torch.cat(logits)


def inception_score(logits: torch.Tensor, splits: int) -> tuple[float, float]:
    """exp E_x KL(p(y|x) || p(y)), mean and std over ``splits`` parts."""
    scores = []
    for part in logits.double().chunk(min(splits, len(logits))):
        log_p = torch.log_softmax(part, dim=1)
        log_marginal = torch.logsumexp(log_p, dim=0) - math.log(len(part))
        scores.append(float((log_p.exp() * (log_p - log_marginal)).sum(dim=1).mean().exp()))
    mean = sum(scores) / len(scores)
    std = math.sqrt(sum((s - mean) ** 2 for s in scores) / len(scores))
    return mean, std


def kernel_inception_distance(
    a: torch.Tensor, b: torch.Tensor, *, subsets: int, size: int, seed: int
) -> tuple[float, float]:
    """Unbiased MMD^2 with the cubic polynomial kernel (x.y / d + 1)^3, mean and std over random subsets."""
    size = min(size, len(a), len(b))
    noise = torch.Generator().manual_seed(seed)
    dim = a.shape[1]
    values = []
    for _ in range(subsets):
        x = a[torch.randperm(len(a), generator=noise)[:size]].double()
        y = b[torch.randperm(len(b), generator=noise)[:size]].double()
        kxx, kyy, kxy = ((x @ x.T) / dim + 1) ** 3, ((y @ y.T) / dim + 1) ** 3, ((x @ y.T) / dim + 1) ** 3
        off = size * (size - 1)
        values.append(float((kxx.sum() - kxx.trace()) / off + (kyy.sum() - kyy.trace()) / off - 2 * kxy.mean()))
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    return mean, std


class Inception:
    """``inception``: applies to image generators only when weights are configured (option or env)."""

    #: which way each figure improves (``eval.keep_best`` reads it; floors and counts are not goals)
    better = {"fid": "lower", "is": "higher", "kid": "lower"}

    def __init__(self, options: InceptionOptions) -> None:
        self.options = options
        self._net: nn.Module | None = None
        self._real: dict[str, torch.Tensor] = {}

    def applies_to(self, context: Any) -> bool:
        info = context.data_info
        return weights_path(self.options) is not None and info is not None and info.kind == "image"

    def network(self, context: Any) -> nn.Module:
        if self._net is None:
            self._net = load_network(require_weights(self.options)).to(context.device).eval()
        return self._net

    def compute(self, context: Any) -> dict[str, float]:
        net = self.network(context)
        info = context.data_info
        if info is None or info.kind != "image":
            raise GanzooError(f"inception: {context.describe()}; Inception measures images only")
        samples, _ = context.samples()
        fake, logits = features_and_logits(net, samples, self.options, context.device)
        key = f"{context.dataset_name}:{len(samples)}"
        if key not in self._real:
            real_x, _ = context.real("train", len(samples))
            self._real[key] = features_and_logits(net, real_x, self.options, context.device)[0]
        real = self._real[key]
        if len(real) < len(fake):
            warn(f"inception: only {len(real)} real training images to compare {len(fake)} samples with")
        is_mean, is_std = inception_score(logits, self.options.splits)
        kid_mean, kid_std = kernel_inception_distance(
            fake, real, subsets=self.options.kid_subsets, size=self.options.kid_subset_size, seed=context.seed
        )
        return {"fid": frechet_from_features(fake, real, what="Inception features"), "is": is_mean, "is_std": is_std,
                "kid": kid_mean, "kid_std": kid_std}
