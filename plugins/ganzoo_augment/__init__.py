"""The built-in D-input augmentation: DiffAugment (Zhao et al. 2020), registered as any plugin would.

With little data D memorises the training set and G's gradients fade; transforming *both* reals and fakes
with the same family of differentiable transforms, in D's step and in G's, keeps D from overfitting while G
still learns the untransformed distribution (the transforms are applied to D's inputs only, never to what G
outputs). Torch-free: ``ganzoo list`` imports this module.
"""

from __future__ import annotations

from ganzoo.plugin import hookimpl, RegisterAugments
from ganzoo_augment.options import DiffAugmentOptions, check_adaptive


@hookimpl
def register_augments(register: RegisterAugments) -> None:
    register(
        "diffaugment",
        "ganzoo_augment.diffaugment:DiffAugment",
        description="DiffAugment: differentiable colour, translation and cutout on D's inputs, reals and fakes alike.",
        options=DiffAugmentOptions,
        data_kinds=("image",),
        check_recipe=check_adaptive,
    )
