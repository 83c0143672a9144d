#!/usr/bin/env bash
# The checks that need a CUDA GPU, in one pass, for a lent machine with torch already on it.
#
#   OUT=gpu-checks bash benchmarks/gpu_checks.sh [TRAIN_STEPS]
#
# 1. training and inference throughput of `ours` with bf16 autocast + channels_last
#    (engine against a plain loop, benchmarks/bench_training.py);
# 2. the batched CUDA path of PatchMatch: images/s and hole PSNR next to the CPU path;
# 3. a real training run of `ours` on the sample train split (bf16), scored on the
#    held-back val photographs against mean fill and Telea.
# Each step's output is written to $OUT; a failing step does not stop the later ones.
set -uo pipefail
OUT=${OUT:-gpu-checks}
STEPS=${1:-3000}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
# The machine has no package index: install this project from a wheel built beforehand
# (pip wheel --no-deps -w .gpu .) when there is one, else from the checkout.
if ls .gpu/inpaintbench-*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-deps --no-index --target /tmp/inpaintbench-site .gpu/inpaintbench-*.whl >"$OUT/install.txt" 2>&1
  export PYTHONPATH=/tmp/inpaintbench-site
else
  python3 -m pip install -q --no-deps --no-build-isolation --no-index -e . >"$OUT/install.txt" 2>&1
fi || { cat "$OUT/install.txt"; exit 1; }
nvidia-smi -L
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())"
WORKERS=$(( $(nproc) > 8 ? 8 : $(nproc) - 1 ))

timeout 200 python3 benchmarks/bench_training.py --devices cuda --workers "$WORKERS" 2>&1 | tee "$OUT/bench_training.txt"
timeout 90 python3 benchmarks/bench_patchmatch.py --skip speed,memory,quality 2>&1 | tee "$OUT/bench_patchmatch.txt"

RUN=$(mktemp -d)/ours-sample-gpu
started=$(date +%s)
timeout 300 python3 -m inpaintbench train ours --steps "$STEPS" --device cuda --precision bf16 --channels-last \
  --workers "$WORKERS" --resize-to 192 --flip --sample-every 1000 --checkpoint-every 1000 --out "$RUN" 2>&1 | tail -5
echo "training: $(( $(date +%s) - started )) s for $STEPS steps" | tee "$OUT/train_time.txt"
cp "$RUN/losses.csv" "$OUT/losses.csv" 2>/dev/null
for split in val train; do
  python3 -m inpaintbench compare --methods ours,mean-fill,telea --split "$split" --device auto \
    --checkpoint ours="$RUN" --out "$RUN/compare-$split" --format md 2>&1 | tee "$OUT/compare_$split.txt"
done
