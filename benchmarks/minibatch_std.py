"""Minibatch standard deviation in D: ``Tensor.var`` over the group axis against ganzoo's mean of squares
(``ganzoo.layers.group_spread``), forward and backward, on the shapes the shipped discriminators give it.

    python benchmarks/minibatch_std.py              # 1 thread, 9 interleaved rounds, median ms per call
    python benchmarks/minibatch_std.py --threads 2 --rounds 15

Both formulas run in turns (ABAB...), and the ``var`` formula also against itself (A/A), so the ratio comes
with the noise beside it. Why it matters: reducing over the small middle axis of (groups, 4, features),
``var`` and its backward cost as much as all of D's convolutions on the CPU in the main recipe.
"""

from __future__ import annotations

import os
import time

import torch
from microbench import banner, interleaved_medians, parse_args

from ganzoo.layers import group_spread

SHAPES = [(128, 64, 4, 4), (128, 32, 8, 8), (128, 128, 2, 2), (512, 128)]  # dcgan-digits' D; a wider one; mlp


def with_var(h: torch.Tensor, group: int) -> torch.Tensor:
    """The formula ganzoo used before (and most implementations use)."""
    n = h.shape[0]
    grouped = h.float().reshape(n // group, group, -1)
    return (grouped.var(dim=1, unbiased=False) + 1e-8).sqrt().mean(dim=1).repeat_interleave(group)


def time_once(fn, h: torch.Tensor, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn(h, 4).sum().backward()
    return (time.perf_counter() - start) / calls * 1e3


def main() -> None:
    args = parse_args(__doc__.split("\n")[0], calls=50)
    banner(args.threads)
    print("| shape | var ms | var again (A/A) | group_spread ms | speed-up | A/A ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for shape in SHAPES:
        h = torch.randn(*shape, requires_grad=True)
        assert torch.allclose(with_var(h, 4), group_spread(h, 4), atol=1e-6)
        cases = {"var": with_var, "var again": with_var, "group_spread": group_spread}
        med = interleaved_medians({name: (lambda calls, fn=fn: time_once(fn, h, calls)) for name, fn in cases.items()},
                                  args.rounds, args.calls)
        print(f"| {'x'.join(map(str, shape))} | {med['var']:.3f} | {med['var again']:.3f} | "
              f"{med['group_spread']:.3f} | {med['var'] / med['group_spread']:.2f}x | "
              f"{med['var'] / med['var again']:.2f} |")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
