"""D-guided sampling: the run's discriminator discards or resamples the generator's poorer samples.

Two methods, both built on D's logit read as log p_data(x) / p_g(x) (exact for the optimal D of the
logistic losses; for the others, and for a D that is not optimal, the calibration below makes it so as
far as two parameters can):

- ``drs``, discriminator rejection sampling (Azadi et al. 2019): accept x with probability sigmoid(F(x)),
  F = l - l_max - log(1 - exp(l - l_max - eps)) - gamma, where l_max is the largest logit of a burn-in
  draw and gamma the ``quantile`` of F on it (higher keeps fewer, better samples). Both are fixed after the
  burn-in (the paper lets l_max grow, which with a fixed gamma drives acceptance towards 0), and both are
  per class for a conditional generator: the ratio p_data(x|c) / p_g(x|c) has its own scale per class,
  and one shared l_max starves the class that G draws worst;
- ``mh``, Metropolis-Hastings with G as the independent proposal (Turner et al. 2019): a chain of
  ``steps`` proposals per output sample, moving from x to x' with probability min(1, exp(l' - l)); its
  target is p_data as far as D is right.

Calibration (both papers): D's raw logit goes through a logistic regression a * logit + b fitted on
held-out real images (the test split of a finite data set, a fresh draw of an endless source) against as
many fresh generated samples, so that a hinge or Wasserstein critic, or an over-confident D, still gives
a usable ratio.

:class:`GuidedGenerator` keeps the generator's contract ``G(z, c) -> x``: ``z`` seeds each slot's first
proposal, further proposals come from a private noise stream seeded by the first, so ``ganzoo sample``,
``ganzoo eval`` and scripts use it as any generator. The result is reported apart from plain sampling.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from ganzoo import contracts
from ganzoo.errors import GanzooError
from ganzoo.run_folder import RunFolder

Method = Literal["drs", "mh"]
METHODS = ("drs", "mh")
EPS = 1e-6
MAX_ROUNDS = 500  # rejection rounds before giving up (an acceptance rate far below 1%)


def discriminator_path(weights: str | Path) -> Path:
    """The run's ``discriminator.safetensors``: inside a run directory, or beside a generator file."""
    path = Path(weights)
    folder = path if path.is_dir() else path.parent
    found = RunFolder(folder).weights("discriminator")
    if not found.is_file():
        raise GanzooError(f"{path}: no {found.name} {'in' if path.is_dir() else 'beside'} it; "
                          "D-guided sampling (drs, mh) needs the run's discriminator")
    return found


def fit_calibration(real_logits: torch.Tensor, fake_logits: torch.Tensor, iterations: int = 50) -> tuple[float, float]:
    """(a, b) of the logistic regression P(real | logit) = sigmoid(a * logit + b), by Newton's method."""
    x = torch.cat([real_logits, fake_logits]).double()
    y = torch.cat([torch.ones(len(real_logits)), torch.zeros(len(fake_logits))]).double()
    scale = float(x.std()) or 1.0  # Newton on standardised logits: steps of sane size whatever D's scale
    design = torch.stack([x / scale, torch.ones_like(x)], dim=1)
    w = torch.zeros(2, dtype=torch.float64)
    for _ in range(iterations):
        p = torch.sigmoid(design @ w)
        grad = design.T @ (p - y)
        hessian = (design * (p * (1 - p))[:, None]).T @ design + 1e-6 * torch.eye(2, dtype=torch.float64)
        step = torch.linalg.solve(hessian, grad)
        w = w - step
        if float(step.abs().max()) < 1e-10:
            break
    return float(w[0]) / scale, float(w[1])


def drs_score(logits: torch.Tensor, l_max: torch.Tensor | float) -> torch.Tensor:
    """Azadi et al.'s F(x) before the gamma shift, for calibrated logits (log density ratios)."""
    delta = logits.double() - l_max
    return delta - torch.log1p(-torch.exp(delta - EPS).clamp(max=1 - EPS))


class GuidedGenerator(nn.Module):
    """A generator whose samples the discriminator has filtered (``drs``) or resampled (``mh``)."""

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        *,
        method: Method,
        calibration: tuple[float, float],
        l_max: torch.Tensor | float = 0.0,
        gamma: torch.Tensor | float = 0.0,
        steps: int = 20,
        batch_size: int = 500,
    ) -> None:
        super().__init__()
        if method not in METHODS:
            raise GanzooError(f"guide {method!r}: unknown; allowed: {', '.join(METHODS)}")
        self.generator, self.discriminator = generator, discriminator
        self.method, self.calibration = method, calibration
        self.l_max = torch.as_tensor(l_max, dtype=torch.float64).reshape(-1)  # one per class, or one in all
        self.gamma = torch.as_tensor(gamma, dtype=torch.float64).reshape(-1)
        self.steps, self.batch_size = int(steps), int(batch_size)
        self.latent_dim = int(generator.latent_dim)
        self.num_classes = contracts.num_classes(generator)
        self.accepted = self.proposed = 0  # what the last calls cost: proposals per sample kept

    @torch.no_grad()
    def logits(self, x: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        """Calibrated logits a * D(x, c) + b: log p_data / p_g as well as D knows it."""
        a, b = self.calibration
        outs = [self.discriminator(x[i : i + self.batch_size], None if c is None else c[i : i + self.batch_size])
                for i in range(0, len(x), self.batch_size)]
        logits = torch.cat(outs).double().flatten()
        if len(logits) != len(x):  # a D (a third party's) that scores groups: no ratio for one sample to act on
            raise GanzooError(f"guide: the discriminator gave {len(logits)} figures for {len(x)} samples (it scores "
                              "groups of samples); D-guided sampling needs one logit per sample")
        return a * logits + b

    @torch.no_grad()
    def propose(self, z: torch.Tensor, c: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.generator(z, c)
        return x, self.logits(x, c)

    @torch.no_grad()
    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        noise = torch.Generator().manual_seed(int(z.detach().double().abs().sum().item() * 1e6) % (2**63))
        draw = lambda n: torch.randn(n, self.latent_dim, generator=noise).to(z.device, z.dtype)  # noqa: E731
        x, logit = self.propose(z, c)
        return self._mh(x, logit, c, draw) if self.method == "mh" else self._drs(x, logit, c, draw, noise)

    def _drs(self, x: torch.Tensor, logit: torch.Tensor, c: torch.Tensor | None, draw: Any,
             noise: torch.Generator) -> torch.Tensor:
        out = x.clone()
        todo = torch.arange(len(x), device=x.device)
        for _ in range(MAX_ROUNDS):
            self.proposed += len(todo)
            group = torch.zeros(len(todo), dtype=torch.long) if c is None or len(self.l_max) == 1 else c[todo].cpu()
            score = drs_score(logit.cpu(), self.l_max[group]) - self.gamma[group]
            keep = torch.rand(len(todo), generator=noise, dtype=torch.float64) < torch.sigmoid(score)
            out[todo[keep.to(x.device)]] = x[keep.to(x.device)]
            self.accepted += int(keep.sum())
            todo = todo[~keep.to(x.device)]
            if not len(todo):
                return out
            x, logit = self.propose(draw(len(todo)), None if c is None else c[todo])
        raise GanzooError(f"drs: fewer than 1 in {MAX_ROUNDS} proposals accepted; lower the quantile")

    def _mh(self, x: torch.Tensor, logit: torch.Tensor, c: torch.Tensor | None, draw: Any) -> torch.Tensor:
        uniform = torch.Generator().manual_seed(int(self.steps))
        for _ in range(self.steps):
            new_x, new_logit = self.propose(draw(len(x)), c)
            move = torch.rand(len(x), generator=uniform, dtype=torch.float64).log() < (new_logit - logit).cpu()
            x = torch.where(move.to(x.device).view(-1, *[1] * (x.dim() - 1)), new_x, x)
            logit = torch.where(move.to(logit.device), new_logit, logit)
            self.proposed += len(x)
            self.accepted += int(move.sum())
        return x


def guided_generator(
    weights: str | Path,
    method: Method,
    *,
    quantile: float = 0.5,
    steps: int = 20,
    calibration_samples: int = 1000,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> nn.Module:
    """The generator of a weights file or run directory, guided by the run's discriminator (see the module
    docstring); ``.card`` is the generator's, so it samples and evaluates like the plain one."""
    if method not in METHODS:
        raise GanzooError(f"--guide {method}: unknown; allowed: {', '.join(METHODS)}")
    if not 0.0 <= quantile < 1.0:
        raise GanzooError(f"drs quantile {quantile}: must be in [0, 1)")
    if steps < 1:
        raise GanzooError(f"mh steps {steps}: must be >= 1")
    from ganzoo.evaluation.context import EvalContext, resolve_device
    from ganzoo.weights import find_weights, load_generator, load_module

    d_path = discriminator_path(weights)
    found = find_weights(weights)
    device = resolve_device(device)
    generator = load_generator(found).to(device)
    if generator.card.clustered:  # its D judges each cluster apart, and held-out reals carry no cluster
        raise GanzooError(f"{found}: the generator is self-conditioned on {generator.card.num_classes} clusters; "
                          "D-guided sampling needs the held-out reals' clusters, which it does not have: drop --guide")
    discriminator, _ = load_module(d_path, "discriminator")
    discriminator = discriminator.to(device).eval()
    packed = contracts.pack(discriminator)
    if packed > 1:  # PacGAN: one score shared by a pack, no ratio per sample
        raise GanzooError(f"{d_path}: this discriminator scores packs of {packed} samples (PacGAN); "
                          "D-guided sampling needs one logit per sample")
    context = EvalContext(generator, generator.card, n=calibration_samples, seed=seed + 7, device=device,
                          source=str(found))
    real_x, real_c = held_out(context, calibration_samples)
    fake_x, fake_c = context.samples(len(real_x), labels=real_c)
    raw = GuidedGenerator(generator, discriminator, method=method, calibration=(1.0, 0.0), l_max=0.0)
    calibration = fit_calibration(raw.logits(real_x.to(device), _to(real_c, device)),
                                  raw.logits(fake_x.to(device), _to(fake_c, device)))
    burn_in = raw.logits(fake_x.to(device), _to(fake_c, device)).cpu() * calibration[0] + calibration[1]
    l_max, gamma = burn_in_levels(burn_in, fake_c, quantile)
    guided = GuidedGenerator(generator, discriminator, method=method, calibration=calibration, l_max=l_max,
                             gamma=gamma, steps=steps)
    guided.card = generator.card  # type: ignore[assignment]
    return guided


def burn_in_levels(
    logits: torch.Tensor, labels: torch.Tensor | None, quantile: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """DRS's l_max and gamma from burn-in logits: one pair in all, or one per class when there are labels."""
    groups = [logits] if labels is None else [logits[labels.cpu() == k] for k in range(int(labels.max()) + 1)]
    if any(len(g) == 0 for g in groups):
        raise GanzooError("drs: the burn-in draw left a class without samples; use more calibration samples")
    l_max = torch.stack([g.max() for g in groups])
    gamma = torch.stack([torch.quantile(drs_score(g, m), quantile) for g, m in zip(groups, l_max)])
    return l_max, gamma


def held_out(context: Any, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Real data D never trained on: the test split of a finite set, a fresh draw of an endless source."""
    data = context.dataset("train")
    x, c = context.real("validation", n) if contracts.data_form(data) == "sample" else context.real("test")
    if context.conditional and c is None:
        raise GanzooError(f"{context.source}: the held-out real data has no labels; a conditional D needs them")
    x, c = x[:n], None if c is None else c[:n]
    return x, (c if context.conditional else None)


def _to(c: torch.Tensor | None, device: torch.device) -> torch.Tensor | None:
    return None if c is None else c.to(device)
