"""``ganzoo sample WEIGHTS``: draw samples from a weights file or run directory, with nothing else at hand."""

from __future__ import annotations

import argparse
from pathlib import Path

from ganzoo.cli.guide_args import add_guide_arguments, check_guide_arguments, guide_options
from ganzoo.errors import GanzooError


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("sample", help="draw samples from a generator .safetensors file or run directory")
    parser.add_argument("weights", type=Path, metavar="WEIGHTS_OR_RUN_DIR")
    parser.add_argument("-n", type=int, default=64, help="number of samples (default 64)")
    parser.add_argument("--class", dest="label", type=int, metavar="C", help="class to draw (conditional models)")
    parser.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    parser.add_argument("--vary", metavar="CODE", help="a latent code's traversal (InfoGAN: categorical, continuous-0, "
                        "...): each row one noise, the code varied along it, all else fixed; -n rows' worth")
    parser.add_argument("--out", type=Path, required=True, metavar="FILE",
                        help=".png grid, or .npy raw samples in the data's own units (ring8: the unit circle; "
                             "images: pixel intensities in [0, 1])")
    parser.add_argument("--model-units", action="store_true",
                        help=".npy in the generator's own units instead ([-1, 1], the dataset's scale applied)")
    parser.add_argument("--scale", type=int, metavar="N",
                        help="enlarge each tile N times (nearest neighbour); default: tiles at least 48 px")
    add_guide_arguments(parser, "filter or resample by the run's discriminator")
    parser.set_defaults(handler=sample)

MAX_SAMPLES = 1_000_000
MAX_VALUES = 1 << 26  # values drawn in one call (256 MB as float32): -n is checked against it before drawing
MAX_TILES = 10_000  # samples in one .png grid


def draw(generator, n: int, label: int | None, seed: int):
    """``n`` samples, seeded; a conditional model without ``label`` gets the classes in equal rows, a
    self-conditioned one its clusters by their frequencies (the sampler of the Python API and of evaluation:
    :mod:`ganzoo.sampling`)."""
    from ganzoo.sampling import draw as draw_samples

    classes = generator.card.num_classes
    if label is not None and not classes:
        raise GanzooError(f"--class {label}: this generator is unconditional; drop --class")
    if label is not None and not 0 <= label < classes:
        raise GanzooError(f"--class {label}: out of range; allowed: 0..{classes - 1}")
    return draw_samples(generator, n, seed=seed, latent_dim=generator.card.latent_dim, num_classes=classes,
                        label=label, prior=generator.card.label_prior)


def traversal(generator, code: str, n: int, seed: int):
    """Rows of samples, one noise per row, with ``code`` stepped through its values along the row: about ``n``
    samples (at least one row). The generator says what its codes are (``code_names``, ``vary``)."""
    import torch

    from ganzoo.contracts import code_names

    names = code_names(generator)
    if not names:
        raise GanzooError(f"--vary {code}: this generator has no latent codes to vary (an infogan generator has)")
    if code not in names:
        raise GanzooError(f"--vary {code}: no such code; allowed: {', '.join(names)}")
    per_row = len(generator.vary(torch_zeros(generator), code))
    z = torch.randn(max(1, n // per_row), generator.card.latent_dim, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return generator(generator.vary(z, code))


def torch_zeros(generator):
    """One all-zero latent row: what ``vary`` needs to say how many values a code steps through."""
    import torch

    return torch.zeros(1, generator.card.latent_dim)


def sample(args: argparse.Namespace) -> int:
    suffix = args.out.suffix.lower()
    if suffix not in (".png", ".npy"):
        raise GanzooError(f"--out {args.out}: unknown format {suffix or '(none)'}; allowed: .png, .npy")
    if not 1 <= args.n <= MAX_SAMPLES:
        raise GanzooError(f"-n {args.n}: must be between 1 and {MAX_SAMPLES}")
    if not 0 <= args.seed < 2**63:
        raise GanzooError(f"--seed {args.seed}: must be between 0 and {2**63 - 1}")
    if args.scale is not None and not 1 <= args.scale <= 64:
        raise GanzooError(f"--scale {args.scale}: must be a whole number from 1 to 64")
    if suffix == ".png" and args.n > MAX_TILES:
        raise GanzooError(f"-n {args.n}: a .png grid holds at most {MAX_TILES:,} samples; write .npy for more")
    if args.vary is not None and args.label is not None:
        raise GanzooError(f"--vary {args.vary} with --class {args.label}: a traversal varies a latent code over "
                          "the classes' rows; give one of the two")
    if args.vary is not None and args.guide:
        raise GanzooError(f"--vary {args.vary} with --guide {args.guide}: a guide discards or resamples noise, "
                          "a traversal needs every noise kept; give one of the two")
    check_guide_arguments(args)

    if args.out.is_dir():
        raise GanzooError(f"--out {args.out}: is a folder; name a .png or .npy file")

    import numpy as np

    from ganzoo.atomic import write_atomic
    from ganzoo.training.artifacts import save_samples
    from ganzoo.weights import load_generator

    if args.guide:
        from ganzoo.guided import guided_generator

        generator = guided_generator(args.weights, args.guide, seed=args.seed, **guide_options(args))
    else:
        generator = load_generator(args.weights)
    check_size(args.n, generator.card.shape)
    if args.vary is not None:
        samples, c = traversal(generator, args.vary, args.n, args.seed), None
    else:
        samples, c = draw(generator, args.n, args.label, args.seed)
    bad = int((~samples.isfinite()).any(dim=tuple(range(1, samples.dim()))).sum()) if samples.numel() else 0
    if bad:  # a diverged generator: never hand out nan samples as if they were data
        raise GanzooError(f"{args.weights}: {bad} of {len(samples)} samples are not finite (nan or inf); nothing written. "
                          "The weights are degenerate: sample from an earlier checkpoint or retrain")
    if suffix == ".npy":
        if not args.model_units:
            samples = generator.card.to_data_units(samples)
            if samples.numel() and not bool(samples.isfinite().all()):
                raise GanzooError(f"{args.weights}: ganzoo.units turn the samples into non-finite values (nan or "
                                  "inf); nothing written: the file's units are wrong (--model-units skips them)")
            if generator.card.units is None:
                from ganzoo.cli.render import warn

                warn(f"{args.weights} records no data units (written by an older ganzoo); the samples are in model units")

    def write_npy(tmp: Path) -> None:
        with tmp.open("wb") as handle:
            np.save(handle, samples.numpy())

    try:
        if suffix == ".npy":
            write_atomic(args.out, write_npy)
        else:
            # a row per class; a self-conditioned model's clusters come in blocks of their shares: a plain grid
            plain = c is None or args.label is not None or generator.card.clustered
            rows = None if plain else generator.card.num_classes
            if args.vary is not None:
                rows = max(1, args.n // len(generator.vary(torch_zeros(generator), args.vary)))
            save_samples(samples, args.out, rows=rows, scale=args.scale, reference=_real_points(generator, samples))
    except OSError as err:  # a read-only folder, a full disk: nothing half-written (atomic writes), one line
        raise GanzooError(f"--out {args.out}: cannot write: {err.strerror or err}") from None
    print(f"wrote {len(samples)} samples to {args.out}")
    return 0


def check_size(n: int, shape: tuple[int, ...]) -> None:
    """``n`` samples of ``shape`` within :data:`MAX_VALUES`, said before anything is drawn."""
    import math

    values = n * math.prod(shape)
    if values > MAX_VALUES:
        most = max(1, MAX_VALUES // math.prod(shape))
        raise GanzooError(f"-n {n}: {n:,} samples of shape {tuple(shape)} are {values:,} values; at most "
                          f"{MAX_VALUES:,} per call (here -n {most:,}): draw in several calls with other --seed")


def _real_points(generator, samples):
    """Real points to draw behind a 2-D scatter plot, from the dataset the weights' recipe names (None for
    images, or when the weights do not say, or the data is not at hand)."""
    if samples.dim() != 2 or samples.shape[1] != 2:
        return None
    from ganzoo.evaluation.context import EvalContext

    context = EvalContext(generator, generator.card, n=4 * len(samples), device="cpu")
    if context.dataset_name is None:
        return None
    try:
        return context.real("train", 4 * len(samples))[0]
    except GanzooError:
        return None
