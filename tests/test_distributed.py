"""Multi-process training for real: ``ganzoo run`` under ``torchrun --nproc_per_node 2`` on CPU (gloo, DDP).

Every test marked ``distributed`` starts two real processes (docs/design.md: ``accelerate launch --cpu
--num_processes 2`` runs a single process on CPU, so torchrun is the launcher here; on GPUs ``accelerate
launch`` starts the same code). They run in the default test run, at tiny width, a few steps each.

What is checked, for WGAN-GP (a second critic forward for the penalty, gradient accumulation under
``no_sync``), DCGAN (BatchNorm in G and D, an EMA generator) and DCGAN with R1 and DiffAugment (a
regulariser's plain forward beside DDP's, an augmentation stream per process):

- all processes end with the same parameters and buffers (``GANZOO_RANK_DIGEST``: each process writes the
  SHA-256 of its tensors when it finishes), and they are the tensors of the weights files on disk;
- only the main process writes the run directory: each process starts in a working directory of its own, so
  the same relative run folder is a different folder per process, and all rank 1 leaves in its own is its
  part of each checkpoint (its data position and random streams);
- the global batch is the sum of the per-process batches (metrics.jsonl: ``processes``, ``global_batch``;
  the data each process consumed), and each process draws other data;
- progress and the final line come from the main process only;
- a 2-process run stopped (by ``train.steps``, a crash after a checkpoint, Ctrl-C) and resumed ends bit for
  bit where an uninterrupted one does, on both processes.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from helpers_training import assert_same_tensors, cli_env, read_tensors, set_args, tiny

from ganzoo.training.batches import TensorBatches
from ganzoo.training.distributed import DIGEST_ENV, tensor_digest

NPROC = 2
STEPS, HALF = 4, 2
BATCH = 8
LAUNCH_TIMEOUT = 150  # seconds; a healthy launch takes 10-20 on two busy cores

# name: (extra --set values, grad_accum, real batches drawn per process per step)
CASES = {
    # penalty (second critic forward) + two micro-batches per optimiser step; a critic with no normalisation,
    # EMA; five critic steps per G step (the recipe takes one) keep several critic steps a step under test
    "wgan-gp-digits": (["train.grad_accum=2", "train.d_steps=5"], 2, 5 * 2),  # each of 2 micro-batches
    # BatchNorm in G, spectral norm in D, EMA, clusters computed by each process alike: one real batch per step
    "dcgan-digits": ([], 1, 1),
    # a regulariser (R1, lazy: due at critic step 0 here) and DiffAugment (each process its own stream); with
    # a batch-norm D and g_step_batchnorm = "fresh-reals" (the recipe before 2026-12-06), a real batch in G's
    # step too, so that path stays under test
    "dcgan-r1-diffaug-digits": (["discriminator.batch_norm=true", 'train.g_step_batchnorm="fresh-reals"'], 1, 1 + 1),
}


def use_port() -> int:
    """A free TCP port for the rendezvous (``--master_port``).

    The OS hands out a port nobody listens on, so runs in parallel (pytest-xdist, other people's jobs on a
    shared machine) do not collide on torchrun's default 29500; :func:`launch` retries with a new port in
    the rare case that another process takes it between here and the launch.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Launch:
    returncode: int
    output: str  # the launcher's own output
    ranks: list[str]  # each process's stdout and stderr
    digests: list[dict]  # each process's GANZOO_RANK_DIGEST file, {} where it wrote none

    def report(self) -> str:
        parts = [f"exit {self.returncode}", "--- torchrun", self.output[-3000:]]
        for rank, text in enumerate(self.ranks):
            parts += [f"--- rank {rank}", text[-3000:]]
        return "\n".join(parts)


def launch(args: list[str], *, tmp: Path, cwd: Path, per_rank_cwd: bool = False,
           interrupt_when: Path | None = None, use_cpu_env: bool = True) -> Launch:
    """``ganzoo ARGS`` in NPROC processes started by torchrun (``python -m torch.distributed.run``).

    With ``per_rank_cwd`` process R starts in ``cwd/rankR``. With ``interrupt_when`` the launcher gets a
    SIGINT (a Ctrl-C) once that file exists; it passes one on to each process. ``ACCELERATE_USE_CPU=1`` is
    set unless ``use_cpu_env`` is false.
    """
    for attempt in range(3):
        port = use_port()
        logs, digests = tmp / f"logs-{port}", tmp / f"digests-{port}"
        command = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={NPROC}",
                   "--master_addr=127.0.0.1", f"--master_port={port}", f"--log-dir={logs}", "--redirects=3"]
        ganzoo = [sys.executable, "-m", "ganzoo.cli.main", *args]
        if per_rank_cwd:
            command += ["--no-python", "sh", "-c", 'cd "$0/rank$RANK" && exec "$@"', str(cwd), *ganzoo]
        else:
            command += ganzoo[1:]
        env = {**cli_env(), DIGEST_ENV: str(digests)}
        if use_cpu_env:
            env["ACCELERATE_USE_CPU"] = "1"
        out = tmp / f"torchrun-{port}.log"
        with out.open("w") as handle:
            proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT)
        try:
            if interrupt_when is not None:
                deadline = time.monotonic() + LAUNCH_TIMEOUT
                while not interrupt_when.exists() and proc.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.2)
                proc.send_signal(signal.SIGINT)
            proc.wait(timeout=LAUNCH_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)  # torchrun passes it on to its processes, then kills them
            proc.wait(timeout=60)
            pytest.fail(f"torchrun ran past {LAUNCH_TIMEOUT} s:\n{out.read_text()[-3000:]}")
        output = out.read_text()
        if proc.returncode != 0 and "address already in use" in output.lower() and attempt < 2:
            continue  # the port was taken after use_port() chose it
        ranks = []
        for rank in range(NPROC):
            found = sorted(logs.glob(f"*/attempt_*/{rank}/*.log"))
            ranks.append("".join(path.read_text() for path in found))
        found = [digests / f"rank{rank}.json" for rank in range(NPROC)]
        return Launch(proc.returncode, output, ranks, [json.loads(p.read_text()) if p.is_file() else {} for p in found])
    raise AssertionError("unreachable")


def tiny_sets(name: str, steps: int, **kw) -> list[str]:
    kw.setdefault("checkpoint_every", 2)
    return tiny(name, steps=steps, batch_size=BATCH, log_every=1, extra=CASES.get(name, ([],))[0], **kw)


def files(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


def run_files(name: str, steps: int, checkpoints: tuple[int, ...], ranks: tuple[int, ...]) -> set[str]:
    """Everything a finished run directory holds (sample_every = 0: the last step's samples only)."""
    names = {"recipe.toml", "metrics.jsonl", "curves.png", "generator.safetensors", "discriminator.safetensors",
             f"samples/step-{steps:06d}.png"}
    if name in ("dcgan-digits", "dcgan-r1-diffaug-digits", "wgan-gp-digits"):  # train.ema = 0.999
        names.add("generator-ema.safetensors")
    for step in checkpoints:
        names.add(f"checkpoints/step-{step:06d}.safetensors")
        names |= {f"checkpoints/step-{step:06d}.rank{rank}.safetensors" for rank in ranks}
    return names


def metric_rows(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line.strip()]


def figures(rows: list[dict]) -> list[dict]:
    """The rows without their timings."""
    return [{k: v for k, v in row.items() if k not in ("images_per_s", "wall_s")} for row in rows]


@dataclass
class FullRun:
    launch: Launch
    run_dir: Path  # the main process's run folder
    rank1_dir: Path  # the same relative folder in rank 1's working directory


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    """An uninterrupted STEPS-step 2-process run of a case, made once per module: each process in a working
    directory of its own, with the default run folder (a timestamp the processes must agree on)."""
    made: dict[str, FullRun] = {}

    def get(name: str) -> FullRun:
        if name not in made:
            tmp = tmp_path_factory.mktemp(f"full-{name}")
            for rank in range(NPROC):
                (tmp / "work" / f"rank{rank}").mkdir(parents=True)
            result = launch(["run", name, *set_args(tiny_sets(name, STEPS))], tmp=tmp, cwd=tmp / "work",
                            per_rank_cwd=True)
            assert result.returncode == 0, result.report()
            runs = list((tmp / "work" / "rank0" / "runs").iterdir())
            assert len(runs) == 1, runs
            made[name] = FullRun(result, runs[0], tmp / "work" / "rank1" / "runs" / runs[0].name)
        return made[name]

    return get


def gather(full: FullRun, into: Path) -> Path:
    """The run folder with every process's checkpoint parts in it, as on a filesystem all processes share."""
    shutil.copytree(full.run_dir, into)
    for part in (full.rank1_dir / "checkpoints").iterdir():
        shutil.copy2(part, into / "checkpoints" / part.name)
    return into


def assert_same_as_full_run(run_dir: Path, resumed: Launch, full: FullRun, name: str, *, extra: set[str]) -> None:
    """Bit for bit the uninterrupted run: weights, last checkpoint (every part), figures, both processes."""
    assert resumed.digests == full.launch.digests  # parameters, buffers, data position, on each process
    for weights in sorted(run_dir.glob("*.safetensors")):
        assert_same_tensors(weights, full.run_dir / weights.name)
    last = f"checkpoints/step-{STEPS:06d}"
    assert_same_tensors(run_dir / f"{last}.safetensors", full.run_dir / f"{last}.safetensors")
    assert_same_tensors(run_dir / f"{last}.rank0.safetensors", full.run_dir / f"{last}.rank0.safetensors")
    assert_same_tensors(run_dir / f"{last}.rank1.safetensors", full.rank1_dir / f"{last}.rank1.safetensors")
    assert figures(metric_rows(run_dir)) == figures(metric_rows(full.run_dir))
    assert files(run_dir) == run_files(name, STEPS, (HALF, STEPS), ranks=(0, 1)) | extra


# ---------------------------------------------------------------- one uninterrupted run


@pytest.mark.distributed
@pytest.mark.parametrize("name", list(CASES))
def test_two_processes_train_one_model(full_run, name):
    full = full_run(name)
    extra, accum, draws = CASES[name]
    first, second = full.launch.digests

    # every process ends with the same model, and it is the one the main process saved
    assert first["world"] == second["world"] == NPROC and first["step"] == second["step"] == STEPS
    assert first["parameters"] == second["parameters"]
    assert first["buffers"] == second["buffers"]  # BatchNorm statistics too (broadcast when training ends)
    for role in first["parameters"]:
        saved = {key: tensor_digest(value) for key, value in read_tensors(full.run_dir / f"{role}.safetensors").items()}
        assert saved == {**first["parameters"][role], **first["buffers"][role]}, role

    # one writer: the main process wrote the run folder; rank 1 left only its checkpoint parts in its own
    assert files(full.run_dir) == run_files(name, STEPS, (HALF, STEPS), ranks=(0,))
    rank1_work = full.rank1_dir.parent.parent
    assert files(rank1_work) == {
        f"runs/{full.run_dir.name}/checkpoints/step-{step:06d}.rank1.safetensors" for step in (HALF, STEPS)
    }
    rows = metric_rows(full.run_dir)
    assert [row["step"] for row in rows] == list(range(1, STEPS + 1))  # logged once, not once per process

    # the global batch is the sum of the per-process ones, and each process consumed its own shard
    assert all(row["processes"] == NPROC and row["global_batch"] == NPROC * BATCH * accum for row in rows)
    per_process = [digest["batches"]["offset"] / (STEPS * draws) for digest in (first, second)]
    assert per_process == [BATCH, BATCH] and sum(per_process) * accum == rows[-1]["global_batch"]

    # progress and the last line come from the main process only
    main, other = full.launch.ranks
    assert main.count(f"done: {STEPS} steps; run directory runs/{full.run_dir.name}") == 1, main
    assert f"step {STEPS}/{STEPS}" in main
    assert "done:" not in other and "step 1/" not in other and "Traceback" not in other, other


def test_each_process_takes_its_own_shard_of_each_epoch():
    x = torch.arange(40)
    streams = [TensorBatches(x, None, 4, seed=3, device=torch.device("cpu"), rank=r, world=2) for r in range(2)]
    for epoch in range(2):
        seen = [torch.cat([next(stream)[0] for _ in range(5)]) for stream in streams]  # 5 x 4 = 20 each
        assert not set(seen[0].tolist()) & set(seen[1].tolist())
        assert sorted(seen[0].tolist() + seen[1].tolist()) == list(range(40)), epoch  # the epoch, split in two
    assert [stream.epoch for stream in streams] == [1, 1]


# ---------------------------------------------------------------- resumed runs


@pytest.mark.distributed
def test_stopped_and_resumed_two_process_run_is_bit_identical(tmp_path, full_run):
    """dcgan + R1 + DiffAugment: BatchNorm statistics and the EMA across the stop, each process's noise,
    augmentation stream and data position."""
    name = "dcgan-r1-diffaug-digits"
    full = full_run(name)
    first = launch(["run", name, *set_args(tiny_sets(name, HALF)), "--out", "run"], tmp=tmp_path, cwd=tmp_path)
    assert first.returncode == 0, first.report()
    resumed = launch(["run", "--resume", "run", "--set", f"train.steps={STEPS}"], tmp=tmp_path, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.report()
    assert "resumed run at step 2" in resumed.ranks[0] and "resumed" not in resumed.ranks[1]
    # the stopped run's last samples stay
    assert_same_as_full_run(tmp_path / "run", resumed, full, name, extra={f"samples/step-{HALF:06d}.png"})


@pytest.mark.distributed
def test_two_process_run_resumes_after_a_crash_bit_identically(tmp_path, full_run):
    """wgan-gp: the processes died after step 3, past the step-2 checkpoint (later files are dropped)."""
    name = "wgan-gp-digits"
    full = full_run(name)
    run_dir = gather(full, tmp_path / "run")
    for path in (run_dir / "checkpoints").glob(f"step-{STEPS:06d}*"):
        path.unlink()
    resumed = launch(["run", "--resume", str(run_dir)], tmp=tmp_path, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.report()
    assert_same_as_full_run(run_dir, resumed, full, name, extra=set())


@pytest.mark.distributed
def test_ctrl_c_stops_every_process_at_the_same_step_and_resumes(tmp_path):
    """vanilla-ring8 (an endless sampled source: per-process seeds). torchrun passes one SIGINT to each
    process; the stop is agreed across processes, so all checkpoint the same step.

    Plain ``torchrun`` with ``train.device = "auto"`` and no ACCELERATE_USE_CPU: on a machine without GPUs
    the processes must still join one process group (accelerate alone would leave each training by itself).
    """
    name = "vanilla-ring8"
    sets = tiny_sets(name, 100_000, checkpoint_every=0) + ['train.device="auto"']
    run_dir = tmp_path / "run"
    stopped = launch(["run", name, *set_args(sets), "--out", "run"], tmp=tmp_path, cwd=tmp_path,
                     interrupt_when=run_dir / "metrics.jsonl", use_cpu_env=False)
    assert stopped.returncode != 0
    main, other = stopped.ranks
    assert "interrupted at step" in main, stopped.report()
    step = int(main.split("interrupted at step ")[1].split(";")[0])
    assert f"ganzoo: interrupted at step {step}; checkpoint saved; resume with: ganzoo run --resume run" in main
    assert "interrupted" not in other and "Traceback" not in other, other
    assert files(run_dir / "checkpoints") == {f"step-{step:06d}.safetensors", f"step-{step:06d}.rank0.safetensors",
                                              f"step-{step:06d}.rank1.safetensors"}
    assert [row["step"] for row in metric_rows(run_dir)] == list(range(1, step + 1))
    assert all(row["processes"] == NPROC for row in metric_rows(run_dir))

    resumed = launch(["run", "--resume", "run", "--set", f"train.steps={step + 2}"], tmp=tmp_path, cwd=tmp_path,
                     use_cpu_env=False)
    assert resumed.returncode == 0, resumed.report()
    first, second = resumed.digests
    assert first["step"] == second["step"] == step + 2
    assert first["parameters"] == second["parameters"] and first["buffers"] == second["buffers"]
    assert first["batches"] != second["batches"]  # each process samples its own points
    assert [row["step"] for row in metric_rows(run_dir)] == list(range(1, step + 3))


@pytest.mark.distributed
def test_a_two_process_run_resumes_on_one_process_with_a_note(tmp_path, full_run, capsys, one_thread):
    from ganzoo.api import run_recipe

    run_dir = gather(full_run("dcgan-digits"), tmp_path / "run")
    result = run_recipe(run_dir / "recipe.toml", overrides=[f"train.steps={STEPS + 1}"], resume=run_dir)
    assert result.step == STEPS + 1
    err = capsys.readouterr().err
    assert f"step-{STEPS:06d}.safetensors: written by 2 process(es), resumed on 1" in err, err
    assert metric_rows(run_dir)[-1]["processes"] == 1
