#!/usr/bin/env bash
# The GPU check, in a few minutes: (1) images/s of pytorch/examples' 64x64 DCGAN (batch 128, synthetic data)
# in ganzoo with each fast path against the pytorch/examples loop (benchmarks/gpu.py); (2) one short real
# recipe run on the device (several GPUs: torchrun, one process per GPU, NCCL), then `ganzoo eval` of it.
#
#   bash benchmarks/gpu.sh                     # on a CUDA machine; figures in $OUT (default /tmp/ganzoo-gpu)
#   bash benchmarks/gpu.sh --device cpu        # the same steps at toy sizes on CPU (the tests run this)
#   PYTHON=.venv/bin/python OUT=/tmp/g bash benchmarks/gpu.sh
set -euo pipefail

DEVICE=cuda
while [ $# -gt 0 ]; do
  case "$1" in
    --device) DEVICE="$2"; shift 2 ;;
    --device=*) DEVICE="${1#*=}"; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "gpu.sh: unknown argument $1 (allowed: --device cuda|cpu)" >&2; exit 2 ;;
  esac
done
case "$DEVICE" in cuda|cpu) ;; *) echo "gpu.sh: --device must be cuda or cpu, not $DEVICE" >&2; exit 2 ;; esac

HERE="$(cd "$(dirname "$0")" && pwd)"
PYTHON="${PYTHON:-python3}"
OUT="${OUT:-/tmp/ganzoo-gpu}"
mkdir -p "$OUT"
cd "$HERE/.."

echo "== machine"
date -u
if [ "$DEVICE" = cuda ]; then nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true; fi
"$PYTHON" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'GPUs', torch.cuda.device_count())"

echo "== 1. throughput: pytorch/examples' DCGAN, 64x64, batch 128"
if [ "$DEVICE" = cuda ]; then
  "$PYTHON" benchmarks/gpu.py --device cuda --json "$OUT/throughput.json" | tee "$OUT/throughput.md"
else
  "$PYTHON" benchmarks/gpu.py --device cpu --tiny --threads 1 --json "$OUT/throughput.json" | tee "$OUT/throughput.md"
fi

echo "== 2. a real recipe on $DEVICE"
GPUS=0
if [ "$DEVICE" = cuda ]; then GPUS="$("$PYTHON" -c 'import torch; print(torch.cuda.device_count())')"; fi
RUN="$OUT/run-$(date -u +%Y%m%d-%H%M%S)"
if [ "$DEVICE" = cuda ]; then
  SETS=(--set train.device=cuda --set train.steps=1500 --set train.log_every=100)
else
  SETS=(--set train.device=cpu --set train.steps=4 --set train.log_every=2 --set train.threads=1
        --set generator.width=8 --set discriminator.width=8 --set train.sample_every=0 --set train.checkpoint_every=0)
fi
START=$(date +%s)
if [ "$GPUS" -gt 1 ]; then
  "$PYTHON" -m torch.distributed.run --standalone --nproc_per_node "$GPUS" -m ganzoo.cli.main \
    run cdcgan-digits --out "$RUN" --quiet "${SETS[@]}"
else
  "$PYTHON" -m ganzoo.cli.main run cdcgan-digits --out "$RUN" --quiet "${SETS[@]}"
fi
echo "trained in $(( $(date +%s) - START )) s on $([ "$GPUS" -gt 1 ] && echo "$GPUS GPUs (NCCL)" || echo "one $DEVICE")"
tail -n 1 "$RUN/metrics.jsonl"
if [ "$DEVICE" = cuda ]; then
  "$PYTHON" -m ganzoo.cli.main eval "$RUN" | tee "$OUT/eval.txt"
fi
echo "== done: figures in $OUT"
