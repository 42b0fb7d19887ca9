"""The dcgan plugin's end layers computed as matrix products, against the convolutions they replace, forward
and backward, on the shapes the shipped digits recipes give them.

    python benchmarks/dcgan_layers.py              # 1 thread, 9 interleaved rounds, median ms per call
    python benchmarks/dcgan_layers.py --threads 2 --rounds 15

G's first layer reads z as a 1x1 map through a transposed convolution (``LatentProjection``); D's head has a
kernel covering the whole last map (``WholeMapHead``). Both are one matrix product, which mkldnn's
convolutions compute slowly at these shapes on a CPU. Each pair runs in turns (ABAB...), and the convolution
also against itself (A/A), so the ratio comes with the noise beside it. The gradient fed back is a random
tensor in the output's layout, as a loss would give it (``sum().backward()`` would feed a broadcast one).
"""

from __future__ import annotations

import os
import time

import torch
from microbench import banner, interleaved_medians, parse_args
from torch import nn

from ganzoo.layers import LatentProjection, WholeMapHead

# (name, fast layer, reference layer, input shape, input needs a gradient): as in cdcgan-digits (width 32)
CASES = [
    ("G first layer, 96 -> 64 x 4 x 4", lambda: LatentProjection(96, 64, 4, 1, 0, bias=False),
     lambda: nn.ConvTranspose2d(96, 64, 4, 1, 0, bias=False), (64, 96, 1, 1), True),
    ("D head, D step (batch 128)", lambda: WholeMapHead(65, 1, 4), lambda: nn.Conv2d(65, 1, 4), (128, 65, 4, 4), False),
    ("D head, G step (input gradient)", lambda: WholeMapHead(65, 1, 4), lambda: nn.Conv2d(65, 1, 4), (64, 65, 4, 4), True),
]


def time_once(layer: nn.Module, x: torch.Tensor, grad: torch.Tensor, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        layer(x).backward(grad)
    return (time.perf_counter() - start) / calls * 1e3


def main() -> None:
    args = parse_args(__doc__.split("\n")[0], calls=100)
    banner(args.threads, ", channels_last")
    print("| layer | input | convolution ms | again (A/A) | matrix product ms | speed-up | A/A ratio |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, make_fast, make_reference, shape, input_grad in CASES:
        torch.manual_seed(0)
        fast = make_fast().to(memory_format=torch.channels_last)
        reference = make_reference().to(memory_format=torch.channels_last)
        reference.load_state_dict(fast.state_dict())
        x = torch.randn(shape).contiguous(memory_format=torch.channels_last).requires_grad_(input_grad)
        out = reference(x)
        assert torch.allclose(fast(x), out, atol=1e-5)
        grad = torch.randn_like(out)
        cases = {"conv": reference, "conv again": reference, "matmul": fast}
        med = interleaved_medians({key: (lambda calls, layer=layer: time_once(layer, x, grad, calls))
                                   for key, layer in cases.items()}, args.rounds, args.calls)
        print(f"| {name} | {'x'.join(map(str, shape))} | {med['conv']:.3f} | {med['conv again']:.3f} | "
              f"{med['matmul']:.3f} | {med['conv'] / med['matmul']:.2f}x | {med['conv'] / med['conv again']:.2f} |")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
