"""``train.fast = "auto"``: the fast paths a run gets without asking, chosen from what was measured.

A pure decision: :func:`choose_fast_paths` takes the device, the kind of models, whether the loss has a
gradient penalty and the run's length, and says which fast paths to add; :func:`apply_fast_paths` writes
them into the train and optim options, so the trainer, the resolved ``recipe.toml`` and a resumed run all
see one concrete choice (resuming is bit-exact for it). ``"off"`` adds nothing: the recipe's own switches
only, today's behaviour. ``"auto"`` only ever switches paths on, on top of those a recipe asks for.

What "measured faster" means here (benchmarks/RESULTS.md, "Fast paths"; CPU: AMD EPYC, 2 cores):

- channels_last for convolutional models: 1.11-1.22x on the DCGANs, same numbers as the default layout up to
  float rounding (tests/test_fast_paths.py); nothing for MLPs, where it does not apply.
- foreach optimiser kernels on CPU for MLPs: 1.14x on vanilla-ring8, whose step is mostly the optimiser's
  many small tensors; the same numbers as the per-parameter loop. Not for convolutional models on CPU
  (0.88-1.09x, within the noise); fused on CUDA (torch's own advice there, to be confirmed by gpu.sh).
- bf16 autocast: 1.03-1.33x on this CPU, but its effect on sample quality was not measured on the shipped
  recipes, and CPUs without native bf16 run it slower: so CUDA only (where bf16 is supported), and never for
  a loss with a gradient penalty, whose double backward in bf16 was not measured stable.
- torch.compile: 1.04-1.21x on the DCGANs after 10-30 s of compiling, 0.68-0.86x on the MLPs: only for
  convolutional models and runs of at least :data:`COMPILE_MIN_STEPS` steps, long enough to pay it back.
"""

from __future__ import annotations

from typing import Literal

import attrs

COMPILE_MIN_STEPS = 20_000  # a DCGAN step of ~30 ms saving 4-21% repays 10-30 s of compiling after ~5-20k steps
FastMode = Literal["auto", "off"]


@attrs.frozen
class FastPaths:
    """The fast paths added to a run (on top of the recipe's own)."""

    channels_last: bool = False
    bf16: bool = False
    compile: bool = False
    optimizer: Literal["auto", "foreach", "fused"] = "auto"  # "auto": leave the recipe's choice

    def describe(self) -> str:
        """One line: what was added, or "nothing"."""
        parts = [name for name, on in (("channels_last", self.channels_last), ("bf16 autocast", self.bf16),
                                       ("torch.compile", self.compile)) if on]
        if self.optimizer != "auto":
            parts.append(f"{self.optimizer} optimisers")
        return ", ".join(parts) or "nothing"


def choose_fast_paths(
    mode: str,
    *,
    device: str,
    convolutional: bool,
    has_penalty: bool,
    steps: int,
    bf16_supported: bool = False,
) -> FastPaths:
    """The fast paths ``train.fast = mode`` adds for a run on ``device`` ("cpu", "cuda", "mps").

    ``convolutional``: G or D has convolutions; ``has_penalty``: a regulariser differentiates through D's
    input gradient (double backward); ``bf16_supported``: the device computes in bf16 natively.
    """
    if mode == "off":
        return FastPaths()
    if mode != "auto":
        raise ValueError(f"train.fast must be 'auto' or 'off', not {mode!r}")
    on_cuda = device == "cuda"
    return FastPaths(
        channels_last=convolutional and device in ("cpu", "cuda"),
        bf16=on_cuda and bf16_supported and not has_penalty,
        compile=convolutional and device in ("cpu", "cuda") and steps >= COMPILE_MIN_STEPS,
        optimizer="fused" if on_cuda else "foreach" if device == "cpu" and not convolutional else "auto",
    )


def apply_fast_paths(train, optim, paths: FastPaths):
    """``(train, optim)`` options with ``paths`` switched on; what the recipe switched on stays on."""
    train = attrs.evolve(
        train,
        channels_last=train.channels_last or paths.channels_last,
        mixed_precision="bf16" if paths.bf16 and train.mixed_precision == "no" else train.mixed_precision,
        compile=train.compile or paths.compile,
    )
    if paths.optimizer != "auto":
        def kernels(options):
            if options.implementation != "auto":  # the recipe chose
                return options
            if paths.optimizer == "fused" and options.name in ("rmsprop",):  # torch has no fused RMSprop
                return attrs.evolve(options, implementation="foreach")
            return attrs.evolve(options, implementation=paths.optimizer)

        optim = attrs.evolve(optim, generator=kernels(optim.generator), discriminator=kernels(optim.discriminator))
    return train, optim


def resolve(train, optim, generator, discriminator, *, has_penalty: bool):
    """``(train, optim)`` with ``train.fast``'s choice written in, for these models and this machine
    (``has_penalty``: a regulariser differentiates through D's input gradient): what the trainer runs, what
    the resolved recipe.toml records."""
    import torch
    from torch import nn

    if train.fast == "off":
        return train, optim
    cuda = train.device == "cuda" or (train.device == "auto" and torch.cuda.is_available())
    device = "cuda" if cuda else "mps" if train.device == "mps" else "cpu"
    convolutional = any(isinstance(m, nn.modules.conv._ConvNd) for net in (generator, discriminator)
                        for m in net.modules())
    paths = choose_fast_paths(
        train.fast, device=device, convolutional=convolutional, steps=train.steps, has_penalty=has_penalty,
        bf16_supported=cuda and torch.cuda.is_available() and torch.cuda.is_bf16_supported(),
    )
    return apply_fast_paths(train, optim, paths)


def summary(train, optim) -> str:
    """The fast paths a run has, from its effective options (the recipe's and those added): one short line."""
    parts = []
    if train.channels_last:
        parts.append("channels_last")
    if train.mixed_precision != "no":
        parts.append(f"{train.mixed_precision} autocast")
    if train.compile:
        parts.append("torch.compile")
    kernels = sorted({optim.generator.implementation, optim.discriminator.implementation} - {"auto"})
    if kernels:
        parts.append("/".join(kernels) + " optimisers")
    return ", ".join(parts) or "none"
