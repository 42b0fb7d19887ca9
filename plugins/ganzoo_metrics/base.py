"""What the classifier-based metrics share: the applicability test and the classifier, loaded once per
metric object (a training callback keeps its metric objects, so later evaluations skip the disk)."""

from __future__ import annotations

from typing import Any

from ganzoo.plugin import GanzooError
from ganzoo_metrics.classifier import Classifier, cache_path, classifier_for
from ganzoo_metrics.options import ClassifierOptions


def labelled_images(context: Any) -> bool:
    """Whether the generator's data are images with class labels (what the classifier is trained on)."""
    info = context.data_info
    return info is not None and info.kind == "image" and info.num_classes > 0


class ClassifierMetric:
    """Base of the metrics judged by the cached real-data classifier."""

    name = "classifier metric"

    def __init__(self, options: ClassifierOptions) -> None:
        self.options = options
        self._classifiers: dict[str, Classifier] = {}
        self._memo: dict[tuple[str, str], Any] = {}

    def require(self, context: Any) -> None:
        """A one-line error when the data are not labelled images."""
        if not labelled_images(context):
            raise GanzooError(
                f"{self.name}: {context.describe()}; it needs labelled image data (digits, mnist, cifar10...)"
            )

    def classifier(self, context: Any) -> Classifier:
        key = str(cache_path(context, self.options))
        if key not in self._classifiers:
            self._classifiers[key] = classifier_for(context, self.options)
        return self._classifiers[key]

    def memo(self, context: Any, what: str, compute: Any) -> Any:
        """``compute()`` once per classifier and ``what`` (real-data features, the floor)."""
        key = (str(self.classifier(context).path), what)
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]
