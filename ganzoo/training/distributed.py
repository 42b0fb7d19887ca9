"""Multi-process training helpers: building the accelerator, the stop signal all processes agree on, one run
directory for all processes, the same buffers at the end, and a per-process digest for tests.

``ganzoo run`` started by ``torchrun --nproc_per_node N`` (or ``accelerate launch``) trains one model with
DDP: every process holds the same weights, draws its own noise and its own shard of the data, and gradients
are averaged. Only the main process writes the run directory, with one exception: every process writes its
part of each checkpoint (``step-N.rankR.safetensors``: its data position and random streams), so that a
resumed run replays exactly.

Setting ``GANZOO_RANK_DIGEST=DIR`` makes every process write ``DIR/rank<R>.json`` when training finishes:
the SHA-256 of each tensor of its models and where its data stream stands. It is a debugging and test hook
(tests/test_distributed.py checks with it that all processes end with identical weights); it is off
unless the variable is set, and writes nothing into the run directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import torch

DIGEST_ENV = "GANZOO_RANK_DIGEST"


def tensor_digest(tensor: torch.Tensor) -> str:
    """SHA-256 of a tensor's dtype, shape and bytes (on CPU, contiguous)."""
    data = tensor.detach().cpu().contiguous().reshape(-1)  # 0-dim tensors have no byte view
    digest = hashlib.sha256(f"{tensor.dtype}:{tuple(tensor.shape)}:".encode())
    digest.update(data.view(torch.uint8).numpy().tobytes() if data.numel() else b"")
    return digest.hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return {"sha256": tensor_digest(value)}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def rank_digest(models: Mapping[str, Any], batches: Any, *, rank: int, world: int, step: int) -> dict[str, Any]:
    """This process's view of the run: parameters and buffers (hashed) of ``models`` by role (G, D and the EMA
    G), the data position."""
    return {
        "rank": rank,
        "world": world,
        "step": step,
        "parameters": {role: {k: tensor_digest(v) for k, v in m.named_parameters()} for role, m in models.items()},
        "buffers": {role: {k: tensor_digest(v) for k, v in m.named_buffers()} for role, m in models.items()},
        "batches": _jsonable(batches.state_dict()),
    }


def write_rank_digest(models: Mapping[str, Any], batches: Any, *, rank: int, world: int, step: int) -> Path | None:
    """With ``GANZOO_RANK_DIGEST=DIR`` set, write ``DIR/rank<R>.json`` (:func:`rank_digest`); otherwise nothing."""
    folder = os.environ.get(DIGEST_ENV)
    if not folder:
        return None
    path = Path(folder) / f"rank{rank}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = rank_digest(models, batches, rank=rank, world=world, step=step)
    path.write_text(json.dumps(digest, indent=1, sort_keys=True), encoding="utf-8")
    return path


def agree_on_path(path: Path | None, accelerator: Any) -> Path | None:
    """The main process's ``path`` on every process (a default run folder holds a timestamp, and processes
    started a second apart would each pick their own)."""
    if accelerator.num_processes == 1:
        return path
    from accelerate.utils import broadcast_object_list

    shared = broadcast_object_list([None if path is None else str(path)], from_process=0)
    return None if shared[0] is None else Path(shared[0])


def broadcast_buffers(modules: Iterable[Any], world: int) -> None:
    """Give every process the main one's buffers (BatchNorm statistics, of G, D and the EMA G).

    DDP broadcasts buffers from the main process before each forward, but the last forward of a run leaves
    each process with statistics of its own batches, and an EMA that averages buffers follows its own G's.
    Called at the end of training, so that every process's models are the ones the main process saved.
    """
    if world == 1:
        return
    for module in modules:
        for buffer in module.buffers():
            torch.distributed.broadcast(buffer.data, src=0)


def launched_rank() -> int:
    """This process's rank as the launcher (torchrun, accelerate launch) set it; 0 when started alone."""
    return int(os.environ.get("RANK", "0") or 0)


def launched_processes() -> int:
    """How many processes the launcher (torchrun, accelerate launch) started; 1 when started alone."""
    return int(os.environ.get("WORLD_SIZE", "1") or 1)


def build_accelerator(*, cpu: bool, mixed_precision: str) -> Any:
    """accelerate's ``Accelerator``, with every process the launcher started in its process group.

    On a machine without GPUs accelerate joins the processes that torchrun started (over gloo) only when it is
    told to use the CPU (``cpu=True`` or ``ACCELERATE_USE_CPU=1``); otherwise each process would train a model
    of its own, and all of them would write the same run folder. With ``train.device = "auto"`` that is what
    the user meant, so the accelerator is built again on the CPU.
    """
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState, GradientState

    from ganzoo.errors import GanzooError

    accelerator = Accelerator(cpu=cpu, mixed_precision=mixed_precision)
    launched = launched_processes()
    if launched > 1 and accelerator.num_processes == 1 and accelerator.device.type == "cpu":
        AcceleratorState._reset_state(reset_partial_state=True)
        GradientState._reset_state()
        accelerator = Accelerator(cpu=True, mixed_precision=mixed_precision)
    if launched > 1 and accelerator.num_processes != launched:
        raise GanzooError(f"started as {launched} processes, but accelerate joined {accelerator.num_processes}; "
                          "on CPUs set ACCELERATE_USE_CPU=1 (or train.device = 'cpu')")
    return accelerator


def setup_accelerator(config: Any) -> Any:
    """The accelerator for a run's ``[train]`` options, with accelerate's process-wide state reset first
    (a second trainer in one process must start clean) and fp16 on CPU turned off with a warning."""
    import warnings

    from accelerate.state import AcceleratorState, GradientState

    from ganzoo.errors import GanzooError

    if config.threads:
        torch.set_num_threads(config.threads)
    if config.device == "cuda" and not torch.cuda.is_available():
        raise GanzooError("train.device = 'cuda', but no CUDA GPU is visible; allowed here: 'auto', 'cpu'")
    AcceleratorState._reset_state(reset_partial_state=False)
    GradientState._reset_state()
    precision = config.mixed_precision
    on_cpu = config.device == "cpu" or (config.device == "auto" and not torch.cuda.is_available())
    if precision == "fp16" and on_cpu:
        warnings.warn("mixed_precision = 'fp16' cannot take effect on CPU; training in fp32 (bf16 works on CPU)",
                      stacklevel=3)
        precision = "no"
    return build_accelerator(cpu=config.device == "cpu", mixed_precision=precision)


class StopSignal:
    """Ctrl-C as a request: the step in progress finishes, and every process stops after the same step.

    ``with stop.armed():`` installs the SIGINT handler (main thread only) and puts the previous one back;
    a second Ctrl-C stops at once. :meth:`requested` asks all processes (one small all-reduce), so that none
    is left waiting in a collective for a process that stopped.
    """

    def __init__(self, accelerator: Any) -> None:
        self.accelerator = accelerator
        self.flag = False

    def requested(self) -> bool:
        if self.accelerator.num_processes == 1:
            return self.flag
        flag = torch.tensor(float(self.flag), device=self.accelerator.device)
        return bool(self.accelerator.reduce(flag, reduction="sum").item() > 0)

    @contextlib.contextmanager
    def armed(self) -> Iterator[None]:
        self.flag = False  # a Ctrl-C that stopped an earlier fit() must not stop this one
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def request_stop(signum: int, frame: Any) -> None:
            if self.flag:  # a second Ctrl-C: stop now
                raise KeyboardInterrupt
            self.flag = True

        previous = signal.signal(signal.SIGINT, request_stop)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


def wrappers_add_nothing(accelerator: Any) -> bool:
    """Whether accelerate's ``backward`` and optimizer wrappers would only call ``loss.backward()``,
    ``optimizer.step()`` and ``zero_grad()``: true unless a gradient scaler (fp16), accelerate's own gradient
    accumulation, DeepSpeed, Megatron-LM or XLA is in play. Calling torch directly then saves per-step Python
    that showed in profiles of small models: an importlib lookup (``is_lomo_available``) in every optimizer
    step, a signature inspection in every ``zero_grad``, a division by 1 in every backward.
    """
    from accelerate.utils import DistributedType

    special = (DistributedType.DEEPSPEED, DistributedType.MEGATRON_LM, DistributedType.XLA)
    return (accelerator.scaler is None and accelerator.gradient_accumulation_steps == 1
            and accelerator.distributed_type not in special)


def plain_forward(model: Any) -> Any:
    """A model's own forward, without the wrappers that defeat a penalty on D's input gradient.

    - accelerate's mixed precision replaces ``model.forward`` by one that enters autocast *inside* the call
      (keeping the original as ``model._original_forward``), so an autocast switched off around the call
      would not reach the model's layers;
    - ``torch.compile`` does not support the double backward that ``create_graph=True`` needs.

    Skipping a DistributedDataParallel wrapper is safe for a penalty: the same parameters already went through
    its forward for D's loss in this step, and their gradients from both terms meet in one backward.
    """
    from torch import nn

    module = getattr(model, "_orig_mod", model)  # torch.compile's OptimizedModule
    inner = module.module if isinstance(module, (nn.parallel.DistributedDataParallel, nn.DataParallel)) else module
    original = getattr(inner, "_original_forward", None)  # accelerate's mixed-precision patch
    return original if original is not None else module
