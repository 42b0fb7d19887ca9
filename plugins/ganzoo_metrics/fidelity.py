"""FID, KID, Inception Score and precision/recall computed by torch-fidelity, the reference implementation.

Papers report these figures with one network (the TF Inception v3 of 2015-12-05, ported to PyTorch as
``pt_inception-2015-12-05``) and one input pipeline (uint8 RGB, resized to 299 px with TF1's bilinear filter).
Rather than copy either, ganzoo hands its samples and real images to ``torch_fidelity.calculate_metrics``
with the user's own weights file, so the figure is the library's and can be set beside published ones. What
that figure depends on (counts, split, resize, library version, the weights file's hash) comes back as
``protocol`` and is printed with it.

torch-fidelity unpickles the weights file with ``weights_only=False``; ganzoo opens it first with torch's
restricted loader, which admits tensors only, so nothing but tensors is ever rebuilt from it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import torch

from ganzoo.plugin import GanzooError, warn
from ganzoo_metrics.options import INCEPTION_ENV, FidelityOptions

EXTRACTOR = "inception-v3-compat"
SIDE = 299  # the network's input side; torch-fidelity resizes every image to it
#: torch-fidelity's result keys -> ganzoo's figure names, per metric (its flag)
FIGURES = {
    "fid": {"frechet_inception_distance": "fid"},
    "kid": {"kernel_inception_distance_mean": "kid", "kernel_inception_distance_std": "kid_std"},
    "isc": {"inception_score_mean": "is", "inception_score_std": "is_std"},
    "prc": {"precision": "precision", "recall": "recall", "f_score": "f_score"},
}
BETTER = {"fid": "lower", "kid": "lower", "is": "higher", "precision": "higher", "recall": "higher",
          "f_score": "higher"}


def fidelity_module() -> Any:
    """torch_fidelity, or one line saying how to install it (it is the optional ``fid`` extra)."""
    try:
        import torch_fidelity
    except ImportError:
        raise GanzooError(
            'fid, kid, isc and prc need torch-fidelity, which is not installed: pip install "pyganzoo[fid]"'
        ) from None
    return torch_fidelity


def weights_path(options: FidelityOptions) -> Path | None:
    """The configured weights file (option first, then the environment), or None."""
    text = options.weights.strip() or os.environ.get(INCEPTION_ENV, "").strip()
    return Path(text).expanduser() if text else None


def require_weights(options: FidelityOptions) -> Path:
    """The weights file, checked to exist and to hold tensors only."""
    path = weights_path(options)
    if path is None:
        raise GanzooError(
            "fid: no Inception v3 weights on this machine; ganzoo never downloads them. Point to your copy of "
            f"pt_inception-2015-12-05 with --inception-weights FILE or {INCEPTION_ENV}"
        )
    if not path.is_file():
        raise GanzooError(f"fid: Inception weights file {path} does not exist")
    check_tensors_only(path.resolve())
    return path.resolve()


def check_tensors_only(path: Path) -> None:
    """Refuse a weights file that holds anything but a state dict of tensors (before torch-fidelity unpickles
    it without restriction)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # pickle errors, truncated files, forbidden globals: all one user-facing line
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise GanzooError(f"fid: cannot read {path} as a state dict of tensors ({type(err).__name__}: {first})") \
            from None
    if not isinstance(state, dict) or "fc.weight" not in state or "Mixed_7c.branch_pool.conv.weight" not in state:
        raise GanzooError(f"fid: {path} is not torch-fidelity's {EXTRACTOR} state dict (pt_inception-2015-12-05)")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def to_uint8_rgb(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] images as the uint8 RGB torch-fidelity takes (a grey channel repeated three times)."""
    x = ((x.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.expand(-1, 3, -1, -1).contiguous() if x.shape[1] == 1 else x


def count_images(folder: Path) -> int:
    """The images torch-fidelity reads from a folder: png, jpg and jpeg files at its top level."""
    return sum(1 for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (".png", ".jpg", ".jpeg"))


class Images(torch.utils.data.Dataset):
    """A stack of uint8 images as the ``Dataset`` torch-fidelity reads."""

    def __init__(self, images: torch.Tensor) -> None:
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.images[index]


class Fidelity:
    """One torch-fidelity metric (``flag``: fid, kid, isc or prc) on the generator's samples and real images.

    ``protocol`` holds, after ``compute``, what the figure depends on; ``ganzoo eval`` prints it and writes
    it to ``--json``.
    """

    flag = "fid"
    #: whether it runs when no metric is named (fid only: each metric makes its own pass through Inception)
    by_default = False

    def __init__(self, options: FidelityOptions) -> None:
        self.options = options
        self.protocol: dict[str, Any] = {}
        self.better = {figure: BETTER[figure] for figure in FIGURES[self.flag].values() if figure in BETTER}

    def applies_to(self, context: Any) -> bool:
        """fid runs by default on image generators when weights are configured and the library is there."""
        info = context.data_info
        if not self.by_default or weights_path(self.options) is None or info is None or info.kind != "image":
            return False
        try:
            import torch_fidelity  # noqa: F401
        except ImportError:
            return False
        return True

    def compute(self, context: Any) -> dict[str, float]:
        weights = require_weights(self.options)
        fidelity = fidelity_module()
        info = context.data_info
        if info is None or info.kind != "image":
            raise GanzooError(f"{self.flag}: {context.describe()}; torch-fidelity measures images only")
        samples, _ = context.samples()
        fake = Images(to_uint8_rgb(samples))
        real, real_source = self.real_images(context)
        settings = self.settings(context, weights)
        try:
            raw = fidelity.calculate_metrics(input1=fake, input2=real, **settings)
        except (ValueError, RuntimeError) as err:  # torch-fidelity's own checks (vassert) raise ValueError
            raise GanzooError(f"{self.flag}: torch-fidelity: {' '.join(str(err).split())}") from None
        self.protocol = self.describe(context, samples, real, real_source, weights, fidelity.__version__)
        return {name: float(raw[key]) for key, name in FIGURES[self.flag].items()}

    def settings(self, context: Any, weights: Path) -> dict[str, Any]:
        """calculate_metrics' keyword arguments: this one metric, the local weights, no cache, no download."""
        o = self.options
        return {
            self.flag: True, "feature_extractor": EXTRACTOR, "feature_extractor_weights_path": str(weights),
            "cuda": context.device.type == "cuda", "batch_size": o.batch_size, "isc_splits": o.isc_splits,
            "kid_subsets": o.kid_subsets, "kid_subset_size": o.kid_subset_size,
            "prc_neighborhood": o.prc_neighborhood, "rng_seed": context.seed, "cache": False,
            "datasets_download": False, "save_cpu_ram": True, "verbose": False,
        }

    def real_images(self, context: Any) -> tuple[Any, str]:
        """The real side: a split of the run's dataset (uint8 tensors) or an image folder's absolute path."""
        if self.flag == "isc":
            return None, "none (the Inception Score looks at samples only)"
        choice = self.options.real.strip()
        if choice in ("train", "test"):
            x, _ = context.real(choice, self.options.real_n or None)
            if len(x) < context.n:
                warn(f"{self.flag}: only {len(x)} real {choice} images to compare {context.n} samples with")
            return Images(to_uint8_rgb(x)), f"{context.dataset_name} {choice} split"
        folder = Path(choice).expanduser()
        if not folder.is_dir():
            raise GanzooError(f"{self.flag}.real: {choice!r} is neither 'train', 'test' nor a folder of images")
        return str(folder.resolve()), f"folder {folder.resolve()}"

    def describe(self, context: Any, samples: torch.Tensor, real: Any, source: str, weights: Path,
                 version: str) -> dict[str, Any]:
        side = "x".join(str(s) for s in samples.shape[-2:])
        protocol: dict[str, Any] = {
            "library": f"torch-fidelity {version}",
            "feature_extractor": EXTRACTOR,
            "weights": str(weights),
            "weights_sha256": sha256(weights),
            "generated": len(samples),
            "real": source,
            "resize": f"{side} -> {SIDE}x{SIDE}, torch-fidelity's TF1-compatible bilinear, from uint8 RGB",
            "seed": context.seed,
        }
        if real is not None:
            protocol["real_count"] = len(real) if isinstance(real, Images) else count_images(Path(real))
        protocol.update(self.parameters())
        return protocol

    def parameters(self) -> dict[str, Any]:
        return {}


class FID(Fidelity):
    """``fid``: Fréchet distance between Gaussians fitted to pool3 (2048-d) features."""

    flag = "fid"
    by_default = True


class KID(Fidelity):
    """``kid``: unbiased MMD^2 with a cubic polynomial kernel over random subsets."""

    flag = "kid"

    def parameters(self) -> dict[str, Any]:
        return {"kid_subsets": self.options.kid_subsets, "kid_subset_size": self.options.kid_subset_size}


class ISC(Fidelity):
    """``isc``: the Inception Score of the samples (no real images)."""

    flag = "isc"

    def parameters(self) -> dict[str, Any]:
        return {"isc_splits": self.options.isc_splits}


class PRC(Fidelity):
    """``prc``: precision and recall of Kynkäänniemi et al. (2019), here in the Inception pool3 features
    (torch-fidelity's default for prc is VGG-16, which would need a second weights file)."""

    flag = "prc"

    def parameters(self) -> dict[str, Any]:
        return {"prc_neighborhood": self.options.prc_neighborhood, "prc_features": f"{EXTRACTOR} 2048"}
