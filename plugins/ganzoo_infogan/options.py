"""InfoGAN's options (torch-free). Generator and discriminator must agree on the codes."""

from __future__ import annotations

from typing import Any

from ganzoo.plugin import option, options_class


@options_class
class InfoGANGeneratorOptions:
    noise_dim: int = option(62, min=1, help="incompressible noise beside the codes (the paper's 62 on MNIST)")
    categorical: int = option(10, min=2, help="values of the categorical code")
    continuous: int = option(2, min=0, help="number of continuous codes")
    width: int = option(64, min=1, help="channels of G's last hidden layer (DCGAN layout)")


@options_class
class InfoGANDiscriminatorOptions:
    categorical: int = option(10, min=2, help="values of the categorical code (as the generator's)")
    continuous: int = option(2, min=0, help="number of continuous codes (as the generator's)")
    width: int = option(64, min=1, help="channels of the first layer; each later layer doubles them")
    spectral_norm: bool = option(False, help="spectrally normalise D's body and real/fake head; drop batch norm")
    minibatch_std: int = option(0, min=0, help="group size of a minibatch-std channel before the real/fake head (0: none)")
    q_hidden: int = option(0, min=0, help="Q's hidden layer (batch norm, leaky ReLU), as the paper's; 0: Q is linear")


@options_class
class InfoGANLossOptions:
    categorical_weight: float = option(1.0, min=0, help="lambda of the categorical code's information term")
    continuous_weight: float = option(0.1, min=0, help="lambda of the continuous codes' information term")
    decay_from: float = option(
        1.0, min=0, max=1,
        help="share of the run from which the information weights fall linearly to 0 at its end (1: constant, "
             "the paper's): once each code value holds its own mode, values that share a mode stop being pushed "
             "apart, and the adversarial loss alone draws them back onto it",
    )
    start_from: float = option(
        0.0, min=0, max=1,
        help="share of the run before which the information terms are off (0: from the start, the paper's): G "
             "first learns to draw the data, and the code then splits what G already draws",
    )
    real_weight: float = option(
        0.0, min=0,
        help="weight of Q's information on real images (confident per image, balanced over the batch), "
             "in D's step: ties the categorical code to clusters of the real data (0: the paper's InfoGAN)",
    )


@options_class
class CodeConsistencyOptions:
    categorical: int = option(10, min=2, help="values of the categorical code (its logits come first in D's codes)")
    degrees: float = option(10.0, min=0, max=180, help="largest turn of the moved copy, in degrees")
    shift: float = option(0.1, min=0, max=0.5, help="largest move of the copy, as a share of the image's size")
    scale: float = option(0.1, min=0, max=0.5, help="largest change of the copy's size, as a share (1 +- scale)")
    decay_from: float = option(
        1.0, min=0, max=1,
        help="share of the run from which the term falls linearly to 0 at its end (1: constant): a strong term "
             "settles which digits the code's values hold early, then leaves D's body to the real/fake task",
    )


def check_schedule(options: InfoGANLossOptions, context: Any) -> None:
    """The information terms switch on at ``start_from`` and fade from ``decay_from``: on before they fade."""
    if options.start_from and options.start_from >= options.decay_from:
        raise ValueError(f"start_from = {options.start_from} is not before decay_from = {options.decay_from}: the "
                         f"information terms would never be on at full weight; allowed: start_from < decay_from")


def check_consistency(options: CodeConsistencyOptions, context: Any) -> None:
    """The term moves images, and reads the first ``categorical`` of D's codes as the categorical code."""
    if context.data.kind != "image":
        raise ValueError(f"code-consistency turns and shifts images, but the data is {context.data.kind} data "
                         f"{list(context.data.shape)}; allowed: image data")
    discriminator = context.components.get("discriminator")
    codes = getattr(getattr(discriminator, "options", None), "categorical", options.categorical)
    if codes != options.categorical:
        raise ValueError(f"categorical = {options.categorical}, but discriminator {discriminator.name!r} predicts "
                         f"{codes} categorical values; allowed: categorical = {codes}")
