"""Built-in ganzoo plugin: R3GAN's modern ResNet generator and discriminator, ``r3gan``.

Huang et al. 2024 ("The GAN is dead; long live the GAN! A Modern Baseline GAN") strip a GAN to a plain
ResNet of inverted-bottleneck blocks, with no normalisation and no tricks, and train it with the
relativistic pairing loss (``rpgan``) and both zero-centred penalties (``r1`` and ``r2``). Registered through
the ``ganzoo`` entry point like any third-party plugin; torch-free (the models load only when built).
"""

from __future__ import annotations

from ganzoo.plugin import RegisterDiscriminators, RegisterGenerators, hookimpl
from ganzoo_r3gan.options import R3GANDiscriminatorOptions, R3GANGeneratorOptions, check_shape


@hookimpl
def register_generators(register: RegisterGenerators) -> None:
    register(
        "r3gan",
        "ganzoo_r3gan.models:R3GANGenerator",
        description="R3GAN generator: learned 4x4 start, inverted-bottleneck residual blocks, no normalisation; "
                    "conditional by a class embedding",
        options=R3GANGeneratorOptions,
        conditional=True,
        data_kinds=("image",),
        check=check_shape,
    )


@hookimpl
def register_discriminators(register: RegisterDiscriminators) -> None:
    register(
        "r3gan",
        "ganzoo_r3gan.models:R3GANDiscriminator",
        description="R3GAN discriminator: inverted-bottleneck residual blocks down to a learned 4x4 end, no "
                    "normalisation; conditional by projection",
        options=R3GANDiscriminatorOptions,
        conditional=True,
        data_kinds=("image",),
        check=check_shape,
    )
