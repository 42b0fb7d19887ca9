"""Endless streams of training batches, whatever form the data takes, with resumable position.

Small datasets are kept whole as tensors on the training device and indexed there, so the loader is never
the bottleneck for small models. Every process walks the same seeded permutation per epoch and takes its
own slice of it (rank::world): sharded data with no sampler to configure. The position (epoch, offset, RNG)
is part of the checkpoint, so a resumed run sees exactly the batches an uninterrupted one would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from ganzoo import contracts
from ganzoo.errors import GanzooError

Batch = tuple[torch.Tensor, torch.Tensor | None]


class TensorBatches:
    """Random batches from tensors held on ``device``: an epoch is one seeded permutation."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor | None, batch_size: int, *, seed: int,
                 device: torch.device, rank: int = 0, world: int = 1) -> None:
        self.x = x.to(device)
        self.y = None if y is None else y.to(device)
        self.batch_size, self.seed, self.rank, self.world = batch_size, seed, rank, world
        if len(x) // world < batch_size:
            raise ValueError(f"{len(x)} samples cannot fill batches of {batch_size} on {world} process(es)")
        self.epoch, self.offset = 0, 0
        self._order = self._permutation()

    def _permutation(self) -> torch.Tensor:
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        order = torch.randperm(len(self.x), generator=generator)[self.rank :: self.world]
        if self.x.device.type == "cuda":  # pinned and non-blocking: an epoch's start never waits for the GPU
            return order.contiguous().pin_memory().to(self.x.device, non_blocking=True)
        return order.to(self.x.device)

    def __next__(self) -> Batch:
        if self.offset + self.batch_size > len(self._order):
            self.epoch, self.offset = self.epoch + 1, 0
            self._order = self._permutation()
        index = self._order[self.offset : self.offset + self.batch_size]
        self.offset += self.batch_size
        return self.x[index], None if self.y is None else self.y[index]

    def __iter__(self) -> Iterator[Batch]:
        return self

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "offset": self.offset}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch, self.offset = int(state["epoch"]), int(state["offset"])
        self._order = self._permutation()


class SampledBatches:
    """Fresh batches from an endless source (``dataset.sample(n, generator)``), such as a 2-D mixture."""

    def __init__(self, source: Any, batch_size: int, *, seed: int, device: torch.device, rank: int = 0) -> None:
        self.source, self.batch_size, self.device = source, batch_size, device
        self.generator = torch.Generator().manual_seed(seed * 100_003 + 7919 * (rank + 1))

    def __next__(self) -> Batch:
        x, y = self.source.sample(self.batch_size, self.generator)
        return x.to(self.device, non_blocking=True), None if y is None else y.to(self.device, non_blocking=True)

    def __iter__(self) -> Iterator[Batch]:
        return self

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["generator"])


def _count(loader: DataLoader) -> str:
    try:
        return f"{len(loader.dataset):,}"  # type: ignore[arg-type]
    except TypeError:
        return "too few"


def _batch_size(loader: DataLoader) -> Any:
    return loader.batch_size or getattr(loader.batch_sampler, "batch_size", "?")


class LoaderBatches:
    """Batches from a DataLoader (large or lazily decoded data), restarted at each epoch's end.

    Resuming restarts the current epoch's order from its seed; exact replay is promised only for the
    in-memory and sampled sources.
    """

    def __init__(self, loader: DataLoader, device: torch.device) -> None:
        self.loader, self.device, self.epoch = loader, device, 0
        self._iter = iter(loader)

    def __next__(self) -> Batch:
        try:
            batch = next(self._iter)
        except StopIteration:
            self.epoch += 1
            self._iter = iter(self.loader)
            batch = next(self._iter, None)
            if batch is None:  # an epoch without one whole batch: fewer samples than a batch, and drop_last
                raise GanzooError(f"the data holds {_count(self.loader)} sample(s), fewer than one batch "
                                  f"({_batch_size(self.loader)}); add data or lower train.batch_size")
        if isinstance(batch, (tuple, list)):  # (x, c), or [x] from a TensorDataset of one tensor
            x, y = batch[0], (batch[1] if len(batch) > 1 else None)
        else:
            x, y = batch, None
        return x.to(self.device, non_blocking=True), None if y is None else y.to(self.device, non_blocking=True)

    def __iter__(self) -> Iterator[Batch]:
        return self

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch = int(state["epoch"])


def make_batches(data: Any, batch_size: int, *, seed: int, device: torch.device, rank: int = 0, world: int = 1,
                 prepare_loader: Callable[[DataLoader], DataLoader] = lambda loader: loader):
    """Pick the stream for ``data``: a dataset component, a (x, y) pair, a tensor, a Dataset or a DataLoader.

    ``prepare_loader`` (accelerate's) shards a DataLoader across processes.
    """
    form = contracts.data_form(data)  # torch's TensorDataset (a ``tensors`` tuple) is offered as items
    if form == "sample":
        return SampledBatches(data, batch_size, seed=seed, device=device, rank=rank)
    if form == "tensors":
        x, y = data.tensors()
        return TensorBatches(x, y, batch_size, seed=seed, device=device, rank=rank, world=world)
    if isinstance(data, torch.Tensor):
        return TensorBatches(data, None, batch_size, seed=seed, device=device, rank=rank, world=world)
    if isinstance(data, (tuple, list)) and len(data) == 2 and isinstance(data[0], torch.Tensor):
        return TensorBatches(data[0], data[1], batch_size, seed=seed, device=device, rank=rank, world=world)
    if isinstance(data, DataLoader):
        return LoaderBatches(prepare_loader(data), device)
    if isinstance(data, Dataset):
        generator = torch.Generator().manual_seed(seed)
        loader = DataLoader(data, batch_size=batch_size, shuffle=True, drop_last=True, generator=generator)
        return LoaderBatches(prepare_loader(loader), device)
    raise TypeError(f"cannot train on {type(data).__name__}: give a dataset, a tensor, (x, y) or a DataLoader")
