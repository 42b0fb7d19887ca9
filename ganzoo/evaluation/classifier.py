"""The small classifier behind the image metrics: trained by ganzoo on the real training split, once.

It is shared by every metric plugin that judges labelled images (the built-in metrics, InfoGAN's code
metric), hence in the core; plugins reach it through :mod:`ganzoo.plugin`. :class:`ClassifierMetric` is their
common base.

No download and no foreign weights: a few convolutions trained for a fixed budget with a fixed seed, so
the same dataset and options always give the same network. It is cached as safetensors under
``<cache>/classifiers/<dataset>-<hash>.safetensors`` (hash of the dataset's options, the classifier's
options and :data:`VERSION`), written atomically, with its test-split accuracy and everything needed to
rebuild it in the metadata. Change :data:`VERSION` whenever the architecture or training changes, so an old
cache is never read as the new protocol.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from pathlib import Path
from typing import Any

import attrs
import torch
import torch.nn.functional as F
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import nn

from ganzoo.__about__ import __version__
from ganzoo.atomic import write_atomic
from ganzoo.classifier_options import ClassifierOptions
from ganzoo.errors import GanzooError
from ganzoo.evaluation import cache
from ganzoo.options import options_to_dict

VERSION = 1
META_KEY = "ganzoo.classifier"
TRAINED = {"count": 0}  # classifiers trained in this process (tests check that a cached one is reused)


class SmallClassifier(nn.Module):
    """Two convolution blocks (with BatchNorm), pooled to 4x4 so the digit's layout survives, a
    ``features``-wide layer (what the Fréchet distance is measured in), then the class logits."""

    def __init__(self, shape: tuple[int, ...], num_classes: int, *, width: int, features: int) -> None:
        super().__init__()
        channels = shape[0]
        self.body = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(), nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(4), nn.Flatten(),
            nn.Linear(2 * width * 16, features), nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(features, num_classes))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


@attrs.define
class Classifier:
    """A trained classifier, what it was trained on, and batched inference on its device."""

    model: SmallClassifier
    meta: dict[str, Any]
    path: Path
    device: torch.device
    batch_size: int = 500

    @property
    def test_accuracy(self) -> float:
        return float(self.meta["test_accuracy"])

    @torch.no_grad()
    def _apply(self, x: torch.Tensor, fn: Any) -> torch.Tensor:
        self.model.eval()
        outs = [fn(chunk.to(self.device).float()).float().cpu() for chunk in x.split(self.batch_size)]
        return torch.cat(outs) if outs else torch.empty(0)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self._apply(x, self.model)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits(x).argmax(dim=1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self._apply(x, self.model.features)


def accuracy(classifier: Classifier, x: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of ``x`` the classifier assigns to ``labels``."""
    return float((classifier.predict(x) == labels.cpu()).double().mean())


def own_options(options: ClassifierOptions) -> dict[str, Any]:
    """The classifier's options alone: a metric's options class may extend them with its own (class
    coverage's ``min_share``), which must not fork the cache."""
    return {field.name: getattr(options, field.name) for field in attrs.fields(ClassifierOptions)}


def data_key(context: Any) -> dict[str, Any]:
    """The dataset's name and parsed options, every default written out: two recipes that differ only in
    spelling a default share one classifier."""
    return {"name": context.require_dataset(), **options_to_dict(context.dataset_options)}


def cache_path(context: Any, options: ClassifierOptions) -> Path:
    """``<cache>/classifiers/<dataset>-<hash>.safetensors`` for this dataset, its options and ours."""
    key = {"dataset": data_key(context), "classifier": own_options(options), "version": VERSION}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
    return Path(context.cache_dir) / "classifiers" / f"{context.require_dataset()}-{digest}.safetensors"


def classifier_for(context: Any, options: ClassifierOptions) -> Classifier:
    """The cached classifier for the context's dataset, trained (and cached) first if there is none."""
    path = cache_path(context, options)
    if path.is_file():
        try:
            return load_classifier(path, context.device, context.batch_size)
        except GanzooError as err:  # a cut or damaged cache file: the cache is ours to rebuild
            warnings.warn(f"{err}; training it again", stacklevel=2)
    cache.check_writable(path.parent)  # before the training whose result goes there
    model, meta = train_classifier(context, options)
    state = {key: value.detach().cpu().contiguous() for key, value in model.state_dict().items()}
    metadata = {META_KEY: json.dumps(meta), "ganzoo.test_accuracy": repr(meta["test_accuracy"])}
    try:
        write_atomic(path, lambda tmp: save_file(state, str(tmp), metadata=metadata))
    except OSError as err:
        raise cache.write_failed(path, err) from None
    return Classifier(model.eval(), meta, path, context.device, context.batch_size)


def load_classifier(path: Path, device: torch.device, batch_size: int = 500) -> Classifier:
    """Rebuild a cached classifier from its file alone."""
    try:
        with safe_open(str(path), framework="pt") as handle:
            meta = json.loads((handle.metadata() or {})[META_KEY])
            state = {key: handle.get_tensor(key) for key in handle.keys()}
        options = ClassifierOptions(**meta["options"])
        model = SmallClassifier(tuple(meta["shape"]), meta["num_classes"], width=options.width,
                                features=options.features)
        model.load_state_dict(state)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, SafetensorError) as err:
        reason = " ".join(str(err).split())[:200] or type(err).__name__
        raise GanzooError(f"{path}: unreadable cached classifier ({reason})") from None
    return Classifier(model.to(device).eval(), meta, path, device, batch_size)


def labelled_split(context: Any, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = context.real(split)
    if y is None:
        raise GanzooError(f"{context.dataset_name}: the {split} split has no class labels; a classifier needs them")
    return x, y


def train_classifier(context: Any, options: ClassifierOptions) -> tuple[SmallClassifier, dict[str, Any]]:
    """Train on the real training split with a fixed seed and budget; measure accuracy on the test split."""
    x, y = labelled_split(context, "train")
    num_classes = int(context.data_info.num_classes) or int(y.max()) + 1
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(options.seed)
        model = SmallClassifier(tuple(x.shape[1:]), num_classes, width=options.width, features=options.features)
    model.to(context.device)
    _fit(model, x, y, options, context.device)
    TRAINED["count"] += 1
    trained = Classifier(model.eval(), {}, Path(), context.device, context.batch_size)
    test_x, test_y = labelled_split(context, "test")
    meta = {
        "dataset": context.dataset_name,
        "dataset_options": options_to_dict(context.dataset_options),
        "options": own_options(options),
        "shape": list(x.shape[1:]),
        "num_classes": num_classes,
        "train_size": len(x),
        "test_size": len(test_x),
        "train_accuracy": accuracy(trained, x, y),
        "test_accuracy": accuracy(trained, test_x, test_y),
        "version": VERSION,
        "ganzoo_version": __version__,
    }
    return model, meta


def _fit(model: nn.Module, x: torch.Tensor, y: torch.Tensor, options: ClassifierOptions, device: torch.device) -> None:
    """Adam with a cosine-decayed learning rate for ``min(max_steps, epochs * N / batch)`` steps."""
    batch = min(options.batch_size, len(x))
    steps = max(1, min(options.max_steps, math.ceil(options.epochs * len(x) / batch)))
    optimizer = torch.optim.Adam(model.parameters(), lr=options.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    noise = torch.Generator().manual_seed(options.seed)
    order, offset = torch.randperm(len(x), generator=noise), 0
    # enable_grad: a metric may ask for its classifier from inside torch.no_grad() (its own compute, or an
    # evaluation during training), and the first ask trains it
    with torch.random.fork_rng(devices=[]), torch.enable_grad():
        torch.manual_seed(options.seed)  # dropout
        model.train()
        for _ in range(steps):
            if offset + batch > len(order):
                order, offset = torch.randperm(len(x), generator=noise), 0
            index = order[offset : offset + batch]
            offset += batch
            xb = random_shift(x[index], noise) if options.augment else x[index]
            loss = F.cross_entropy(model(xb.to(device)), y[index].to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
    model.eval()


def random_shift(x: torch.Tensor, noise: torch.Generator) -> torch.Tensor:
    """Each image shifted by up to side/16 pixels (at least 1) each way, edges replicated."""
    n, _, h, w = x.shape
    s = max(1, min(h, w) // 16)
    padded = F.pad(x, (s, s, s, s), mode="replicate").permute(0, 2, 3, 1)
    dy = torch.randint(0, 2 * s + 1, (n,), generator=noise)
    dx = torch.randint(0, 2 * s + 1, (n,), generator=noise)
    rows = torch.arange(h)[None, :, None] + dy[:, None, None]
    cols = torch.arange(w)[None, None, :] + dx[:, None, None]
    return padded[torch.arange(n)[:, None, None], rows, cols].permute(0, 3, 1, 2).contiguous()


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
