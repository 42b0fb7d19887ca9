"""Options of the MLP generator and discriminator.

Torch-free on purpose: recipes are validated and plugins listed without importing torch. The defaults are
tuned for the 2-D mixtures (ring of 8 and grid of 25 Gaussians), where the modes are tight (std 0.01 on a
ring of radius 1), so both networks need enough width and depth to draw sharp boundaries; they also train
on small flattened images (digits, MNIST) unchanged.
"""

from __future__ import annotations

from ganzoo import option, options_class


@options_class
class MLPGeneratorOptions:
    """Noise plus (optionally) a class embedding, through LeakyReLU layers, to tanh."""

    latent_dim: int = option(64, help="size of the noise vector z", min=1)
    hidden_dims: tuple[int, ...] = option(
        (256, 256, 256), help="width of each hidden layer, input side first", min=1
    )
    negative_slope: float = option(0.2, help="slope of LeakyReLU for negative inputs", min=0.0, max=1.0)
    embedding_dim: int = option(
        16, help="size of the learned class embedding concatenated to z (conditional models only)", min=1
    )


@options_class
class MLPDiscriminatorOptions:
    """LeakyReLU layers with dropout and no batch norm, to one logit."""

    hidden_dims: tuple[int, ...] = option(
        (256, 256, 256), help="width of each hidden layer, input side first", min=1
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
        16, help="size of the learned class embedding concatenated to x (conditional models only)", min=1
    )
