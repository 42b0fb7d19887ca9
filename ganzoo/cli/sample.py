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
    parser.add_argument("--out", type=Path, required=True, metavar="FILE", help=".png grid or .npy raw samples")
    parser.add_argument("--guide", choices=["drs", "mh"],
                        help="filter by the run's discriminator: drs = rejection sampling (Azadi et al. 2019), "
                             "mh = Metropolis-Hastings (Turner et al. 2019); needs discriminator.safetensors")
    parser.set_defaults(handler=sample)


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
    if args.n < 1:
        raise GanzooError(f"-n {args.n}: must be >= 1")

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
    if suffix == ".npy":
        def write_npy(tmp: Path) -> None:
            with tmp.open("wb") as handle:
                np.save(handle, samples.numpy())

        write_atomic(args.out, write_npy)
    else:
        rows = generator.card.num_classes if c is not None and args.label is None else None
        save_samples(samples, args.out, rows=rows)
    print(f"wrote {args.n} samples to {args.out}")
    return 0
