"""Built-in ganzoo plugin: the vanilla GAN's fully connected generator and discriminator, ``mlp``.

Registered through the ``ganzoo`` entry point like any third-party plugin. This module must stay
torch-free: listing plugins and validating recipes import it, and the models load only when built.
"""

from __future__ import annotations

from ganzoo.plugin import hookimpl, RegisterDiscriminators, RegisterGenerators
from ganzoo_mlp.options import (
    MLPDiscriminatorOptions,
    MLPGeneratorOptions,
    check_discriminator_size,
    check_generator_size,
    check_pack,
)

DATA_KINDS = ("flat", "image")


@hookimpl
def register_generators(register: RegisterGenerators) -> None:
    register(
        "mlp",
        "ganzoo_mlp.models:MLPGenerator",
        description="Vanilla GAN generator: LeakyReLU MLP to tanh; conditional by a class embedding joined to z",
        options=MLPGeneratorOptions,
        conditional=True,
        data_kinds=DATA_KINDS,
        check=check_generator_size,
    )


@hookimpl
def register_discriminators(register: RegisterDiscriminators) -> None:
    register(
        "mlp",
        "ganzoo_mlp.models:MLPDiscriminator",
        description=(
            "Vanilla GAN discriminator: LeakyReLU MLP with dropout to one logit; conditional by a class "
            "embedding joined to x; optional PacGAN packing"
        ),
        options=MLPDiscriminatorOptions,
        conditional=True,
        data_kinds=DATA_KINDS,
        check=check_discriminator_size,
        check_recipe=check_pack,
    )
