"""InfoGAN's two metrics: ``infogan-codes`` (does the categorical code alone say which digit a sample is?)
and ``infogan-consistency`` (does Q keep its guess when a real image moves a little? no labels; see its class).

``infogan-codes``: samples are drawn with z ~ N(0, I) (seeded), the categorical code each z holds is read with
the generator's ``latent_codes``, and the cached real-data classifier (the core's, shared with the image metrics)
names each sample's class. Codes are then mapped to classes in the best way, one code value to one class (the
Hungarian assignment on the code x class counts), and the error is the share of samples whose code does not map
to their class: the InfoGAN paper's figure (about 5% on MNIST). ``error_many_to_one`` maps each code value to its
most frequent class instead (two values may share a class), and ``classifier_test_accuracy`` is the judge's own
floor.
"""

from __future__ import annotations

import math
from typing import Any

import torch

import torch.nn.functional as F

from ganzoo.plugin import ClassifierMetric, ClassifierOptions, DOutput, GanzooError, labelled_images, latent_codes
from ganzoo_infogan.consistency import paired_information, random_affine
from ganzoo_infogan.options import CodeConsistencyOptions

#: the moves the consistency metric makes: the regulariser's defaults, four copies of every real image
MOVES = CodeConsistencyOptions()
COPIES = 4


class CodeClassMetric(ClassifierMetric):
    name = "infogan-codes"

    def __init__(self, options: ClassifierOptions | None = None) -> None:
        super().__init__(options or ClassifierOptions())

    def applies_to(self, context: Any) -> bool:
        return labelled_images(context) and latent_codes(context.generator) is not None

    @torch.no_grad()
    def compute(self, context: Any) -> dict[str, float]:
        self.require(context)
        generator = context.generator
        if latent_codes(generator) is None:
            raise GanzooError(f"infogan-codes: {context.describe()} has no latent codes (an infogan generator has)")
        classifier = self.classifier(context)
        z = torch.randn(context.n, context.card.latent_dim, generator=torch.Generator().manual_seed(context.seed))
        was_training = generator.training
        generator.eval()
        try:
            samples = torch.cat([generator(chunk.to(context.device)).float().cpu() for chunk in z.split(500)])
        finally:
            generator.train(was_training)
        codes = generator.latent_codes(z)["categorical"].cpu()
        predicted = classifier.predict(samples).cpu()
        counts = _counts(codes, predicted, int(context.data_info.num_classes))
        return {"error": _one_to_one_error(counts), "error_many_to_one": _many_to_one_error(counts),
                "classifier_test_accuracy": classifier.test_accuracy}


class QConsistencyMetric:
    """``infogan-consistency``: how firmly Q's categorical guess on a real image survives a small move of it.

    No labels: Q's guesses on the real images against its guesses on moved copies (turned, shifted and scaled
    as the ``code-consistency`` regulariser's defaults do), as their mutual information (``information``, at
    most ``max_information`` = log k) and the share of copies given their image's value (``agreement``). The
    code's error against the classes needs a classifier of the classes; this needs only the run's own D, so
    it can rank seeds of a run on data no one has labelled: on infogan-digits it ranks them as the code's
    error does (benchmarks/RESULTS-quality.md). Reads the discriminator beside the generator's weights, or
    the live one when a recipe's ``[eval]`` runs it during training (then ``eval.keep_best`` can follow it).
    """

    name = "infogan-consistency"
    better = {"information": "higher", "agreement": "higher"}

    def __init__(self, options: object = None) -> None:
        pass

    def applies_to(self, context: Any) -> bool:
        info = context.data_info
        return (info is not None and info.kind == "image" and latent_codes(context.generator) is not None
                and _categorical(context.discriminator()) > 0)

    @torch.no_grad()
    def compute(self, context: Any) -> dict[str, float]:
        discriminator = context.discriminator()
        k = _categorical(discriminator)
        if k == 0:
            raise GanzooError(f"infogan-consistency: {context.describe()} has no discriminator with a Q head beside "
                              "it (a run directory of an infogan recipe has)")
        x = context.real("train")[0].to(context.device)
        was_training = discriminator.training
        discriminator.eval()  # Q's batch norm on its running statistics, and no spectral-norm update
        try:
            guess = _guess(discriminator, x, k, context.batch_size)
            noise = torch.Generator(device=context.device).manual_seed(context.seed)
            information, agreement = 0.0, 0.0
            for _ in range(COPIES):
                moved = random_affine(x, degrees=MOVES.degrees, shift=MOVES.shift, scale=MOVES.scale,
                                      generator=noise)
                copy = _guess(discriminator, moved, k, context.batch_size)
                information += float(paired_information(guess, copy)) / COPIES
                agreement += float((guess.argmax(1) == copy.argmax(1)).float().mean()) / COPIES
        finally:
            discriminator.train(was_training)
        # never below 0 but by rounding (a Q that says the same of every image)
        return {"information": max(0.0, information), "agreement": agreement, "max_information": math.log(k)}


def _categorical(discriminator: Any) -> int:
    """Values of the categorical code D's Q head predicts (0: no Q head)."""
    return int(getattr(discriminator, "categorical", 0) or 0)


def _guess(discriminator: Any, x: torch.Tensor, k: int, batch: int) -> torch.Tensor:
    """Q's categorical probabilities for ``x``, in batches."""
    return torch.cat([F.softmax(DOutput.of(discriminator(part))["codes"][:, :k].float(), dim=1)
                      for part in x.split(batch)])


def _counts(codes: torch.Tensor, predicted: torch.Tensor, classes: int) -> torch.Tensor:
    """Samples per (code value, predicted class)."""
    values = int(codes.max()) + 1
    counts = torch.zeros(values, classes, dtype=torch.long)
    counts.index_put_((codes, predicted), torch.ones_like(codes), accumulate=True)
    return counts


def _one_to_one_error(counts: torch.Tensor) -> float:
    """1 - (the most samples any one-to-one map of code values to classes gets right) / all samples.

    Exact, by dynamic programming over the sets of classes already taken (2^classes states: fine for the
    10 classes of digits; more than 16 classes are refused)."""
    values, classes = counts.shape
    if classes > 16:
        raise GanzooError(f"infogan-codes: {classes} classes are too many for the exact assignment (at most 16)")
    table = counts.tolist()
    best = {0: 0}  # classes taken (a bit mask) -> most samples right for the code values assigned so far
    for value in range(values):
        step: dict[int, int] = {}
        for taken, score in best.items():
            for cls in range(classes):
                if not taken >> cls & 1:
                    key = taken | 1 << cls
                    step[key] = max(step.get(key, -1), score + table[value][cls])
        best = step or best  # more code values than classes: the extra ones map to nothing
    return 1.0 - max(best.values()) / float(counts.sum())


def _many_to_one_error(counts: torch.Tensor) -> float:
    return 1.0 - float(counts.max(dim=1).values.sum()) / float(counts.sum())
