"""ACGAN's options (torch-free)."""

from __future__ import annotations

from typing import Any

from ganzoo.plugin import option, options_class


@options_class
class ACGANDiscriminatorOptions:
    width: int = option(64, min=1, help="channels of the first layer; each later layer doubles them")
    spectral_norm: bool = option(False, help="spectrally normalise every layer and drop batch norm")


@options_class
class ACGANLossOptions:
    class_weight: float = option(1.0, min=0, help="weight of the class cross-entropy beside the adversarial loss")


def class_head(options: Any, num_classes: int) -> tuple[str, ...]:
    """The ACGAN discriminator has a class head when the recipe is conditional (it knows the classes then)."""
    return ("class_logits",) if num_classes else ()
