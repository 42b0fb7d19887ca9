"""``ganzoo sample WEIGHTS``: draw samples from a weights file or run directory, with nothing else at hand."""

from __future__ import annotations

import argparse
from pathlib import Path

from ganzoo.errors import GanzooError


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("sample", help="draw samples from a generator .safetensors file or run directory")
    parser.add_argument("weights", type=Path, metavar="WEIGHTS_OR_RUN_DIR")
    parser.add_argument("-n", type=int, default=64, help="number of samples (default 64)")
    parser.add_argument("--class", dest="label", type=int, metavar="C", help="class to draw (conditional models)")
    parser.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    parser.add_argument("--out", type=Path, required=True, metavar="FILE",
                        help=".png grid, or .npy raw samples in the data's own units (ring8: the unit circle; "
                             "images: pixel intensities in [0, 1])")
    parser.add_argument("--model-units", action="store_true",
                        help=".npy in the generator's own units instead ([-1, 1], the dataset's scale applied)")
    parser.add_argument("--guide", choices=["drs", "mh"],
                        help="filter by the run's discriminator: drs = rejection sampling (Azadi et al. 2019), "
                             "mh = Metropolis-Hastings (Turner et al. 2019); needs discriminator.safetensors")
    parser.set_defaults(handler=sample)

MAX_SAMPLES = 1_000_000


def draw(generator, n: int, label: int | None, seed: int):
    """``n`` samples, seeded; a conditional model without ``label`` gets the classes in equal rows."""
    import torch

    classes = generator.card.num_classes
    if label is not None and not classes:
        raise GanzooError(f"--class {label}: this generator is unconditional; drop --class")
    if label is not None and not 0 <= label < classes:
        raise GanzooError(f"--class {label}: out of range; allowed: 0..{classes - 1}")
    noise = torch.Generator().manual_seed(seed)
    z = torch.randn(n, generator.card.latent_dim, generator=noise)
    if not classes:
        c = None
    elif label is not None:
        c = torch.full((n,), label, dtype=torch.long)
    else:
        c = torch.arange(n) * classes // n  # equal blocks of each class: one row per class in the grid
    with torch.no_grad():
        return generator(z, c), c


def sample(args: argparse.Namespace) -> int:
    suffix = args.out.suffix.lower()
    if suffix not in (".png", ".npy"):
        raise GanzooError(f"--out {args.out}: unknown format {suffix or '(none)'}; allowed: .png, .npy")
    if not 1 <= args.n <= MAX_SAMPLES:
        raise GanzooError(f"-n {args.n}: must be between 1 and {MAX_SAMPLES}")
    if not 0 <= args.seed < 2**63:
        raise GanzooError(f"--seed {args.seed}: must be between 0 and {2**63 - 1}")

    import numpy as np

    from ganzoo.atomic import write_atomic
    from ganzoo.training.artifacts import save_samples
    from ganzoo.weights import load_generator

    if args.guide:
        from ganzoo.guided import guided_generator

        generator = guided_generator(args.weights, args.guide, seed=args.seed)
    else:
        generator = load_generator(args.weights)
    samples, c = draw(generator, args.n, args.label, args.seed)
    bad = int((~samples.isfinite()).any(dim=tuple(range(1, samples.dim()))).sum()) if samples.numel() else 0
    if bad:  # a diverged generator: never hand out nan samples as if they were data
        raise GanzooError(f"{args.weights}: {bad} of {args.n} samples are not finite (nan or inf); nothing written. "
                          "The weights are degenerate: sample from an earlier checkpoint or retrain")
    if suffix == ".npy":
        if not args.model_units:
            samples = generator.card.to_data_units(samples)
            if generator.card.units is None:
                from ganzoo.cli.render import warn

                warn(f"{args.weights} records no data units (written by an older ganzoo); the samples are in model units")
        def write_npy(tmp: Path) -> None:
            with tmp.open("wb") as handle:
                np.save(handle, samples.numpy())

        write_atomic(args.out, write_npy)
    else:
        rows = generator.card.num_classes if c is not None and args.label is None else None
        save_samples(samples, args.out, rows=rows)
    print(f"wrote {args.n} samples to {args.out}")
    return 0
