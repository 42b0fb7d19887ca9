"""ACGAN's options (torch-free)."""

from __future__ import annotations

from typing import Any

from ganzoo.plugin import option, options_class


@options_class
class ACGANDiscriminatorOptions:
    width: int = option(64, min=1, help="channels of the first layer; each later layer doubles them")
    spectral_norm: bool = option(False, help="spectrally normalise every layer and drop batch norm")
    minibatch_std: int = option(
        0, min=0, help="group size of a minibatch-std channel before the real/fake head (0: none); the class "
        "head never reads it"
    )
    twin: bool = option(
        False, help="a second class head trained on fakes only (twin_logits), which the tac loss needs"
    )


@options_class
class ACGANLossOptions:
    class_weight: float = option(1.0, min=0, help="weight of the class cross-entropy beside the adversarial loss")
    # Odena et al. train D's class head on fakes too (1.0); with 0 the head learns the classes from reals
    # alone, and G is pulled only towards what reals of its class look like. On acgan-digits the two did about
    # as well (benchmarks/RESULTS-quality.md); the collapse there came from elsewhere (train.group_by_class).
    fake_class_weight: float = option(
        1.0, min=0, help="share of D's class cross-entropy on fakes beside the one on reals (0: reals only)"
    )


def class_head(options: Any, num_classes: int) -> tuple[str, ...]:
    """The ACGAN discriminator has a class head when the recipe is conditional (it knows the classes then),
    and with ``twin`` a second one."""
    if not num_classes:
        return ()
    return ("class_logits", "twin_logits") if options.twin else ("class_logits",)
