"""Options of the MLP generator and discriminator.

Torch-free on purpose: recipes are validated and plugins listed without importing torch. The defaults are
tuned for the 2-D mixtures (ring of 8 and grid of 25 Gaussians), where the modes are tight (std 0.01 on a
ring of radius 1), so both networks need enough width and depth to draw sharp boundaries; they also train
on small flattened images (digits, MNIST) unchanged.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from ganzoo.plugin import DataInfo, option, options_class

#: bounds that keep a build within memory (a typo of 1e12 fails validation, not the allocator)
MAX_WIDTH = 16_384
MAX_PARAMETERS = 500_000_000  # 2 GB of float32 weights, before the optimiser's state


@options_class
class MLPGeneratorOptions:
    """Noise plus (optionally) a class embedding, through LeakyReLU layers, to tanh."""

    latent_dim: int = option(64, help="size of the noise vector z", min=1, max=MAX_WIDTH)
    hidden_dims: tuple[int, ...] = option(
        (256, 256, 256), help="width of each hidden layer, input side first", min=1, max=MAX_WIDTH
    )
    negative_slope: float = option(0.2, help="slope of LeakyReLU for negative inputs", min=0.0, max=1.0)
    embedding_dim: int = option(
        16, help="size of the learned class embedding concatenated to z (conditional models only)", min=1,
        max=MAX_WIDTH,
    )
    categorical: int = option(
        0, min=0, max=MAX_WIDTH, help="values of a uniform categorical part of the prior, given to the net one-hot "
        "beside the noise (0: none): a continuous map of one Gaussian must draw arcs between disconnected modes, "
        "one code value per region need not"
    )


@options_class
class MLPDiscriminatorOptions:
    """LeakyReLU layers with dropout and no batch norm, to one logit."""

    hidden_dims: tuple[int, ...] = option(
        (256, 256, 256), help="width of each hidden layer, input side first", min=1, max=MAX_WIDTH
    )
    negative_slope: float = option(0.2, help="slope of LeakyReLU for negative inputs", min=0.0, max=1.0)
    dropout: float = option(
        0.0, help="dropout probability after each hidden layer (the original paper used dropout in D)",
        min=0.0, max=0.9,
    )
    spectral_norm: bool = option(False, help="spectrally normalise every linear layer (SN-GAN)")
    minibatch_std: int = option(
        0, min=0, help="group size of a minibatch standard deviation feature before the last layer (Karras et "
        "al. 2018): lets D see a group of near copies; 0 = off"
    )
    pack: int = option(
        1, help="PacGAN packing: D judges this many samples of one kind at once, joined into one input, "
        "so a generator that repeats itself is easy to catch (the batch must be a multiple of it)", min=1, max=64,
    )
    embedding_dim: int = option(
        16, help="size of the learned class embedding concatenated to x (conditional models only)", min=1,
        max=MAX_WIDTH,
    )
    conditioning: Literal["concat", "projection"] = option(
        "concat", help="how a conditional D sees the class: an embedding joined to x (cGAN, Mirza & Osindero), "
        "or an inner product of an embedding with its last hidden features added to the logit (projection "
        "discriminator, Miyato & Koyama 2018; not with pack > 1)"
    )
    codes: int = option(
        0, min=0, max=MAX_WIDTH, help="outputs of a Q head on the last hidden features beside the logit, "
        "predicting the generator's latent codes for InfoGAN's information term (the `infogan` loss): the "
        "generator's categorical values, then its continuous codes; 0: no Q head"
    )


def _linear_parameters(widths: list[int]) -> int:
    return sum(a * b + b for a, b in zip(widths, widths[1:]))


def check_generator_size(options: MLPGeneratorOptions, data: DataInfo) -> None:
    """Refuse, at validation, a network whose weights alone would not fit in memory."""
    z = options.latent_dim + options.categorical + (options.embedding_dim if data.num_classes else 0)
    _check_parameters(_linear_parameters([z, *options.hidden_dims, math.prod(data.shape)]))


def check_discriminator_size(options: MLPDiscriminatorOptions, data: DataInfo) -> None:
    joined = data.num_classes and options.conditioning == "concat"
    x = (math.prod(data.shape) + (options.embedding_dim if joined else 0)) * options.pack
    _check_parameters(_linear_parameters([x, *options.hidden_dims, 1]))


def _check_parameters(count: int) -> None:
    if count > MAX_PARAMETERS:
        raise ValueError(
            f"these widths make about {count:,} parameters; at most {MAX_PARAMETERS:,} fit a build "
            "(narrow hidden_dims)"
        )


def q_head(options: MLPDiscriminatorOptions, num_classes: int) -> tuple[str, ...]:
    """The discriminator's named outputs beside the logit: ``codes`` when it has a Q head."""
    return ("codes",) if options.codes else ()


def generator_codes(options: MLPGeneratorOptions, num_classes: int) -> tuple[str, ...]:
    """A generator with a categorical part of the prior owns a latent code a loss can read."""
    return ("codes",) if options.categorical else ()


def check_discriminator_recipe(options: MLPDiscriminatorOptions, context: Any) -> None:
    check_pack(options, context)
    check_codes(options, context)


def check_codes(options: MLPDiscriminatorOptions, context: Any) -> None:
    """A Q head predicts one output per code value of the generator: a mismatch would fail deep in training
    (a code value past Q's outputs) or silently learn nothing (outputs no code has)."""
    if not options.codes:
        return
    if options.pack > 1:
        raise ValueError(f"codes = {options.codes} predicts each sample's codes, and pack = {options.pack} joins "
                         "samples into one input; allowed with a Q head: pack = 1")
    generator = context.components.get("generator")
    wanted = _code_width(generator.options) if generator is not None else None
    if wanted is not None and wanted != options.codes:
        raise ValueError(f"codes = {options.codes}, but generator {generator.name!r} has {wanted} code outputs "
                         f"(categorical values + continuous codes); allowed: codes = {wanted}")


def _code_width(options: Any) -> int | None:
    """Categorical values plus continuous codes of a generator that owns codes (mlp, infogan), else None."""
    categorical = getattr(options, "categorical", 0)
    return categorical + getattr(options, "continuous", 0) if categorical else None


def check_pack(options: MLPDiscriminatorOptions, context: Any) -> None:
    """PacGAN: every batch D sees (train.batch_size reals, as many fakes) must split into whole packs."""
    if options.pack > 1 and options.conditioning == "projection" and context.conditional:
        raise ValueError(f"conditioning = \"projection\" scores one sample's features against its class, and pack "
                         f"= {options.pack} joins samples into one input; allowed with pack > 1: \"concat\"")
    if context.train.batch_size % options.pack:
        raise ValueError(
            f"pack = {options.pack} must divide train.batch_size = {context.train.batch_size} "
            f"(D judges {options.pack} samples at once); allowed: a batch_size that is a multiple of {options.pack}"
        )
