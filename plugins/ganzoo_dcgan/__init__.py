"""Built-in ganzoo plugin: the DCGAN generator and discriminator, ``dcgan``.

Registered through the ``ganzoo`` entry point like any third-party plugin. This module must stay
torch-free: listing plugins and validating recipes import it, and the models load only when built.
"""

from __future__ import annotations

from ganzoo.plugin import hookimpl, RegisterDiscriminators, RegisterGenerators
from ganzoo_dcgan.options import DCGANDiscriminatorOptions, DCGANGeneratorOptions, check_image_size


@hookimpl
def register_generators(register: RegisterGenerators) -> None:
    register(
        "dcgan",
        "ganzoo_dcgan.models:DCGANGenerator",
        description="DCGAN generator: transposed convolutions, batch norm, ReLU, tanh; conditional by a class embedding joined to z",
        options=DCGANGeneratorOptions,
        conditional=True,
        data_kinds=("image",),
        check=check_image_size,
    )


@hookimpl
def register_discriminators(register: RegisterDiscriminators) -> None:
    register(
        "dcgan",
        "ganzoo_dcgan.models:DCGANDiscriminator",
        description="DCGAN discriminator: strided convolutions, batch norm, LeakyReLU(0.2); conditional by projection or label channels",
        options=DCGANDiscriminatorOptions,
        conditional=True,
        data_kinds=("image",),
        check=check_image_size,
    )
