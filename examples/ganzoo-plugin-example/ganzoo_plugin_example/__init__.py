"""An example third-party ganzoo plugin: a ResNet pair, the RaGAN loss and a synthetic shapes dataset.

This module is what the ``ganzoo`` entry point names. ganzoo imports it to list components and to validate
recipes, so it stays torch-free: each factory is given as ``"module:attr"`` and is imported only when a
component is built. The options classes and the ``check``/``info`` functions live in the torch-free
:mod:`ganzoo_plugin_example.options`.
"""

from __future__ import annotations

from ganzoo.plugin import Needs, NoOptions, hookimpl
from ganzoo_plugin_example.options import (
    ResNetDiscriminatorOptions,
    ResNetGeneratorOptions,
    ShapesOptions,
    check_image_size,
    shapes_info,
)


@hookimpl
def register_generators(register):
    register(
        "resnet",
        "ganzoo_plugin_example.resnet:ResNetGenerator",
        description="Small ResNet generator (SN-GAN style): z to 4x4, upsampling residual blocks, tanh",
        options=ResNetGeneratorOptions,
        data_kinds=("image",),
        check=check_image_size,
    )


@hookimpl
def register_discriminators(register):
    register(
        "resnet",
        "ganzoo_plugin_example.resnet:ResNetDiscriminator",
        description="Small ResNet discriminator (SN-GAN style): downsampling residual blocks, sum pooling, one logit",
        options=ResNetDiscriminatorOptions,
        data_kinds=("image",),
        check=check_image_size,
    )


@hookimpl
def register_losses(register):
    register(
        "ragan",
        "ganzoo_plugin_example.ragan:RaGANLoss",
        description="Relativistic average GAN (RaGAN): does D find real data more realistic than fake on average?",
        options=NoOptions,
        needs=Needs(real_logits=True),
    )


@hookimpl
def register_datasets(register):
    register(
        "shapes",
        "ganzoo_plugin_example.shapes:Shapes",
        description="Synthetic grayscale circles, squares and triangles, drawn fresh each batch; no files needed",
        options=ShapesOptions,
        info=shapes_info,
    )
