"""InfoGAN (Chen et al. 2016): latent codes with meaning, learnt by maximising their mutual information with
the samples.

The generator owns its latent prior: beside the noise, a 10-way categorical code and 2 continuous codes.
They are read off a standard normal z (the categorical code as the arg-max of 10 of its coordinates, which is
uniform over the 10 values; each continuous code as one coordinate, N(0, 1)), so every sampler that draws
z ~ N(0, I) draws from InfoGAN's prior, and ``latent_codes(z)`` tells the loss which codes a z holds. A Q head
sharing D's body predicts the codes of a fake; the mutual-information lower bound is the cross-entropy of
the categorical code plus the (unit-variance Gaussian) squared error of the continuous ones, minimised by
G and Q together. The ``infogan-codes`` metric measures how well the categorical code alone predicts the
digit class a classifier sees in the samples.

Torch-free: ``ganzoo list`` and ``ganzoo validate`` import this module.
"""

from __future__ import annotations

from ganzoo.plugin import (
    ClassifierOptions,
    NoOptions,
    RegisterDiscriminators,
    RegisterGenerators,
    RegisterLosses,
    RegisterMetrics,
    RegisterRegularizers,
    check_image_size,
    hookimpl,
)
from ganzoo_infogan.options import (
    CodeConsistencyOptions,
    check_consistency,
    check_schedule,
    InfoGANDiscriminatorOptions,
    InfoGANGeneratorOptions,
    InfoGANLossOptions,
)


@hookimpl
def register_generators(register: RegisterGenerators) -> None:
    register(
        "infogan",
        "ganzoo_infogan.models:InfoGANGenerator",
        description="InfoGAN generator: DCGAN layers fed noise plus a categorical and continuous codes it reads off z",
        options=InfoGANGeneratorOptions,
        data_kinds=("image",),
        check=check_image_size,
        provides=("codes",),
    )


@hookimpl
def register_discriminators(register: RegisterDiscriminators) -> None:
    register(
        "infogan",
        "ganzoo_infogan.models:InfoGANDiscriminator",
        description="InfoGAN discriminator: DCGAN body, a real/fake logit and a Q head predicting the codes",
        options=InfoGANDiscriminatorOptions,
        data_kinds=("image",),
        check=check_image_size,
        provides=("codes",),
    )


@hookimpl
def register_losses(register: RegisterLosses) -> None:
    register(
        "infogan",
        "ganzoo_infogan.loss:InfoGANLoss",
        description="InfoGAN: non-saturating loss plus the mutual-information term of the latent codes (G and Q).",
        options=InfoGANLossOptions,
        needs={"discriminator": ("codes",), "generator": ("codes",)},
        check_recipe=check_schedule,
    )


@hookimpl
def register_regularizers(register: RegisterRegularizers) -> None:
    register(
        "code-consistency",
        "ganzoo_infogan.consistency:CodeConsistency",
        description="IIC (Ji et al. 2019) on Q: -I(Q(x); Q(moved x)) over real images, so the categorical code "
        "splits the data into what survives a small turn, shift and scale; weight = lambda.",
        options=CodeConsistencyOptions,
        needs={"discriminator": ("codes",)},
        check_recipe=check_consistency,
    )


@hookimpl
def register_metrics(register: RegisterMetrics) -> None:
    register(
        "infogan-codes",
        "ganzoo_infogan.metric:CodeClassMetric",
        description="how well InfoGAN's categorical code alone predicts the class (cached classifier, best mapping)",
        options=ClassifierOptions,
        data_kinds=("image",),
    )
    register(
        "infogan-consistency",
        "ganzoo_infogan.metric:QConsistencyMetric",
        description="label-free: how firmly Q's code on a real image survives a small move of it (the run's D)",
        options=NoOptions,
        data_kinds=("image",),
    )
