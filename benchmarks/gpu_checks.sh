#!/usr/bin/env bash
# The checks that need a CUDA GPU, for a lent machine with torch already on it.
#
#   OUT=gpu-checks bash benchmarks/gpu_checks.sh [SECTION ...]
#
# Sections (default: all of them):
#   ours        training and inference images/s of `ours` with bf16 autocast + channels_last,
#               engine against a plain loop (benchmarks/bench_training.py)
#   patchmatch  the batched CUDA path of PatchMatch: images/s, hole PSNR next to the CPU path's
#   train-ours  3000 bf16 steps of `ours` on the sample train split, scored on the held-back val photographs
#   baselines   engine images/s of context-encoder and glcic (bf16 + channels_last, batch 64 and 256)
#   train-baselines  short bf16 runs of context-encoder (overlap 4 and 0; crops of a 160 px resize
#               rather than 350, to keep the 256 px sample photographs near the evaluation scale)
#               and glcic on sample, scored on val
#   table-vii   the Table VII smoke at full model size: `inpaintbench experiment table-vii` on
#               sample, 3000 bf16 steps per variant at batch 100; table, Fig. 12, Fig. 10, loss curves
#   table-vi    the Table VI experiment at full size, 1000 bf16 steps per learned method
#   parallel    compare with CUDA PatchMatch in the main process and CPU workers for the rest, and
#               torchrun ranks on cuda: both tables must equal one process's (seconds aside)
#   encoder-study  Fig. 13 at full width on a synthetic 50,000/10,000-image CIFAR-10 copy: 2 bf16 epochs of
#               both encoders, 1 fp32 epoch on 10,000 images (seconds per epoch; the accuracy means nothing)
# Each section writes its output to $OUT; a failing section does not stop the later ones.
# On one H200: ours + patchmatch + train-ours took about 4 minutes, baselines + train-baselines
# about 6, so all five come close to a 10-minute limit per command: run them in two calls.
# table-vii + table-vi took 310 s + 144 s (about 8 minutes with the start) on one H200;
# parallel + encoder-study about 2 minutes.
set -uo pipefail
OUT=${OUT:-gpu-checks}
SECTIONS=${*:-ours patchmatch train-ours baselines train-baselines}
mkdir -p "$OUT"
RUNS=$(mktemp -d)
export PYTHONUNBUFFERED=1
# The machine has no package index: install this project from a wheel built beforehand
# (pip wheel --no-deps -w .gpu .) when there is one, else from the checkout.
if ls .gpu/inpaintbench-*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-deps --no-index --target /tmp/inpaintbench-site .gpu/inpaintbench-*.whl >"$RUNS/install.txt" 2>&1
  export PYTHONPATH=/tmp/inpaintbench-site
else
  python3 -m pip install -q --no-deps --no-build-isolation --no-index -e . >"$RUNS/install.txt" 2>&1
fi || { cat "$RUNS/install.txt"; exit 1; }
nvidia-smi -L
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())"
WORKERS=$(( $(nproc) > 8 ? 8 : $(nproc) - 1 ))

# train METHOD NAME STEPS [train flags...]: one bf16 run on sample:train, then hole PSNR on sample:val
train_and_score() {
  local method=$1 name=$2 steps=$3; shift 3
  local started; started=$(date +%s)
  timeout 150 python3 -m inpaintbench train "$method" --steps "$steps" --device cuda --precision bf16 --channels-last \
    --workers "$WORKERS" --sample-every 100000 --checkpoint-every 500 --out "$RUNS/$name" "$@" 2>&1 | tail -3
  echo "$name: $(( $(date +%s) - started )) s for $steps steps" | tee -a "$OUT/train_time.txt"
  python3 - "$RUNS/$name/losses.csv" <<'PY' 2>&1 | tee -a "$OUT/train_time.txt"
import sys, pandas as pd
losses = pd.read_csv(sys.argv[1]); tenth = max(len(losses) // 10, 1)
print(f"  {len(losses)} steps; reconstruction loss, first tenth {losses.reconstruction[:tenth].mean():.4f}, "
      f"last tenth {losses.reconstruction[-tenth:].mean():.4f}; images/s by phase: "
      + ", ".join(f"{p} {v:.0f}" for p, v in losses.groupby("phase", sort=False).images_per_s.median().items()))
PY
  python3 -m inpaintbench compare --methods "$method,mean-fill,telea" --split val --device auto \
    --checkpoint "$method=$RUNS/$name" --out "$RUNS/$name-val" --format md 2>&1 | tee "$OUT/compare-$name.txt"
}

for section in $SECTIONS; do
  echo "== $section"
  case $section in
    ours) timeout 200 python3 benchmarks/bench_training.py --devices cuda --methods "" --workers "$WORKERS" 2>&1 | tee "$OUT/bench_training.txt" ;;
    patchmatch) timeout 90 python3 benchmarks/bench_patchmatch.py --skip speed,memory,quality,contended 2>&1 | tee "$OUT/bench_patchmatch.txt" ;;
    train-ours) train_and_score ours ours 3000 --resize-to 192 --flip ;;
    baselines) timeout 200 python3 benchmarks/bench_training.py --devices cuda --gpu-batches "" --repeats 1 --workers "$WORKERS" 2>&1 | tee "$OUT/bench_baselines.txt" ;;
    train-baselines)
      train_and_score context-encoder context-encoder 2000 --resize-to 160
      train_and_score context-encoder context-encoder-overlap0 2000 --resize-to 160 -o overlap=0
      train_and_score glcic glcic 1500 ;;
    table-vii)
      started=$(date +%s)
      timeout 420 python3 -m inpaintbench experiment table-vii --dataset sample --steps 3000 --batch-size 100 \
        --precision bf16 --channels-last --device cuda --workers "$WORKERS" --out "$RUNS/table-vii" --format md 2>&1 \
        | grep -v '^step ' | tee "$OUT/table-vii.txt"
      echo "table-vii: $(( $(date +%s) - started )) s in all" | tee -a "$OUT/table-vii.txt"
      cp "$RUNS"/table-vii/{fig12.png,fig10-ours-full.png,losses-ours-full.png} "$OUT"/ ;;
    table-vi)
      started=$(date +%s)
      timeout 400 python3 -m inpaintbench experiment table-vi --dataset sample --steps 1000 \
        --precision bf16 --channels-last --device cuda --workers "$WORKERS" --out "$RUNS/table-vi" --format md 2>&1 \
        | grep -v '^step ' | tee "$OUT/table-vi.txt"
      echo "table-vi: $(( $(date +%s) - started )) s in all" | tee -a "$OUT/table-vi.txt"
      cp "$RUNS"/table-vi/fig11.png "$OUT"/ ;;
    encoder-study)  # Fig. 13 at full width on a CIFAR-sized synthetic set (class colours + noise): timings, not accuracy
      python3 -c "import sys; from pathlib import Path; sys.path.insert(0, 'tests'); from cifar_fixture import make_learnable_cifar; make_learnable_cifar(Path('$RUNS/cifar'), 50000, 10000)"
      timeout 300 python3 -m inpaintbench experiment encoder-study --root "$RUNS/cifar" --device cuda --precision bf16 --epochs 2 \
        --out "$RUNS/encoder-study-bf16" 2>&1 | tee "$OUT/encoder_study.txt"
      timeout 150 python3 -m inpaintbench experiment encoder-study --root "$RUNS/cifar" --device cuda --epochs 1 --limit-train 10000 \
        --out "$RUNS/encoder-study-fp32" 2>&1 | tee -a "$OUT/encoder_study.txt"
      cp "$RUNS/encoder-study-bf16/accuracy.csv" "$OUT/encoder_study_bf16.csv"
      cp "$RUNS/encoder-study-fp32/accuracy.csv" "$OUT/encoder_study_fp32.csv" ;;
    parallel)
      compare=(python3 -m inpaintbench compare --methods patchmatch,telea,mean-fill --device auto --format csv)
      timeout 120 "${compare[@]}" --out "$RUNS/one" >/dev/null 2>"$RUNS/one.log"
      timeout 120 "${compare[@]}" --workers 4 --out "$RUNS/workers" >/dev/null 2>"$RUNS/workers.log"
      timeout 120 python3 -m torch.distributed.run --nproc-per-node 2 -m inpaintbench compare \
        --methods patchmatch,telea,mean-fill --device auto --format csv --out "$RUNS/ranks" >/dev/null 2>"$RUNS/ranks.log"
      python3 - "$RUNS" <<'PY' 2>&1 | tee "$OUT/parallel.txt"
import json, sys, pandas as pd
runs = sys.argv[1]
one = pd.read_csv(f"{runs}/one/table.csv").drop(columns="seconds")
for name in ("workers", "ranks"):
    try:
        other = pd.read_csv(f"{runs}/{name}/table.csv").drop(columns="seconds")
        same = one.equals(other)
    except FileNotFoundError:
        same = "no table"
    devices = {m: e.get("device") for m, e in json.load(open(f"{runs}/{name}/run.json"))["methods"].items()}
    print(f"{name}: table equals one process's: {same}; devices {devices}")
print(one.to_string())
PY
      tail -n 3 "$RUNS"/{workers,ranks}.log ;;
    *) echo "unknown section $section" ;;
  esac
done
