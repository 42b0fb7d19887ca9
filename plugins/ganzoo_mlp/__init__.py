"""Built-in ganzoo plugin: the vanilla GAN's fully connected generator and discriminator, ``mlp``.

Registered through the ``ganzoo`` entry point like any third-party plugin. This module must stay
torch-free: listing plugins and validating recipes import it, and the models load only when built.
"""

from __future__ import annotations

from ganzoo.plugin import hookimpl, RegisterDiscriminators, RegisterGenerators
from ganzoo_mlp.options import (
    MLPDiscriminatorOptions,
    MLPGeneratorOptions,
    check_discriminator_recipe,
    check_discriminator_size,
    check_generator_size,
    generator_codes,
    q_head,
)

DATA_KINDS = ("flat", "image")


@hookimpl
def register_generators(register: RegisterGenerators) -> None:
    register(
        "mlp",
        "ganzoo_mlp.models:build_generator",
        description="Vanilla GAN generator: LeakyReLU MLP to tanh; conditional by a class embedding joined to z",
        options=MLPGeneratorOptions,
        conditional=True,
        data_kinds=DATA_KINDS,
        check=check_generator_size,
        provides=generator_codes,
    )


@hookimpl
def register_discriminators(register: RegisterDiscriminators) -> None:
    register(
        "mlp",
        "ganzoo_mlp.models:MLPDiscriminator",
        description=(
            "Vanilla GAN discriminator: LeakyReLU MLP with dropout to one logit; conditional by a class "
            "embedding joined to x; optional PacGAN packing and InfoGAN Q head"
        ),
        options=MLPDiscriminatorOptions,
        conditional=True,
        data_kinds=DATA_KINDS,
        check=check_discriminator_size,
        check_recipe=check_discriminator_recipe,
        provides=q_head,
    )
