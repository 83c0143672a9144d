"""Training engine overhead and throughput for the paper's model and the learned baselines, at full size.

Measures, in the same run and on the same networks (``ours``, full width,
4000-d code, both discriminators, i.e. the costliest phase 3 step):

* the engine: ``inpaintbench.training.train`` on the ``sample`` dataset, with
  its data stream, schedule, loss log, progress bookkeeping and checkpoint;
* a plain eager loop written without the engine: the same D_L, D_G and
  generator updates with fused Adam, on batches prepared in memory.

Reports images/s for both at batch 16 and 64 and the engine's overhead, then
inference images/s (``inpaintbench run ours`` at batch 64), then the engine's
images/s for ``context-encoder`` and ``glcic`` at batch 16 (their costliest
step: generator and discriminators both training).  Step times are medians
over the timed steps; each configuration alternates engine and plain runs.
With a CUDA GPU it repeats everything with bf16 autocast and channels_last
(``--devices cuda`` measures only that).

    python benchmarks/bench_training.py --steps 6 --warmup 2 --repeats 2
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from inpaintbench import registry
from inpaintbench.training import TrainConfig, train
from inpaintbench.training.gan import dcgan_init
from inpaintbench.training.recipe import adam
from inpaintbench_ours.networks import Generator, global_discriminator, local_discriminator

ALL_PHASES_AT_ONCE = "0,0,1"  # every step is a phase 3 step: G + D_L + D_G


#: options that make every step a method's costliest one (all networks training)
COSTLIEST_STEP = {"ours": {"phases": ALL_PHASES_AT_ONCE}, "glcic": {"phases": ALL_PHASES_AT_ONCE}, "context-encoder": {}}


def engine_step_times(
    batch: int, steps: int, device: str, precision: str, channels_last: bool, workers: int, method: str = "ours"
) -> list[float]:
    stamps: list[float] = []
    with tempfile.TemporaryDirectory() as out:
        config = TrainConfig(
            method=method, dataset="sample", out=out, steps=steps, batch_size=batch, workers=workers,
            device=device, precision=precision, channels_last=channels_last,
            checkpoint_every=10**9, sample_every=10**9, options=COSTLIEST_STEP[method],
        )
        train(config, on_step=lambda step, losses: stamps.append(time.perf_counter()))
    return [b - a for a, b in zip(stamps, stamps[1:])]


def plain_step_times(batch: int, steps: int, device: str, precision: str, channels_last: bool) -> list[float]:
    """The same phase 3 step as ``ours``' recipe, hand-written, no engine."""
    dev = torch.device(device)
    torch.manual_seed(0)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    G = dcgan_init(Generator()).to(dev, memory_format=fmt)
    DL = dcgan_init(local_discriminator()).to(dev, memory_format=fmt)
    DG = dcgan_init(global_discriminator()).to(dev, memory_format=fmt)
    opt_g, opt_l, opt_d = (adam(n.parameters(), 3e-4, (0.5, 0.999)) for n in (G, DL, DG))
    images = torch.rand(batch, 3, 128, 128, device=dev) * 2 - 1
    masks = torch.zeros(batch, 1, 128, 128, device=dev)
    masks[:, :, 32:96, 32:96] = 1
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)

    def autocast():
        return torch.autocast(dev.type, dtype=dtype, enabled=dtype is not None)

    def bce(logits, real):
        return F.binary_cross_entropy_with_logits(logits.float(), torch.full_like(logits.float(), float(real)))

    times = []
    for _ in range(steps):
        start = time.perf_counter()
        truth = images[:, :, 32:96, 32:96]
        masked = images * (1 - masks)
        with autocast():
            patch = G(masked).float()
        completed = masked * (1 - masks) + F.pad(patch, (32, 32, 32, 32)) * masks
        for D, opt, real, fake in ((DL, opt_l, truth, patch), (DG, opt_d, images, completed)):
            with autocast():
                loss = bce(D(real), 1) + bce(D(fake.detach()), 0)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        with autocast():
            g_loss = F.mse_loss(patch, truth) + 0.001 * bce(DL(patch), 1) + 0.001 * bce(DG(completed), 1)
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        g_loss.item()  # the engine logs every step's losses
        if dev.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return times


def inference_images_per_second(batch: int, device: str, repeats: int, bf16: bool = False) -> float:
    """``ours``' inpaint at ``batch``; ``bf16`` runs it under bf16 autocast (GPU)."""
    with tempfile.TemporaryDirectory() as out:
        train(TrainConfig(method="ours", dataset="sample", out=out, steps=1, batch_size=2, workers=0, device=device))
        method = registry.create_method("ours", device=device, checkpoint=Path(out))
        rng = np.random.default_rng(0)
        images = rng.integers(0, 256, (batch, 128, 128, 3), dtype=np.uint8)
        masks = np.zeros((batch, 128, 128), bool)
        masks[:, 32:96, 32:96] = True
        images[masks] = 0
        precision = torch.autocast(device, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
        with precision:
            method.inpaint(images, masks)  # warm-up
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                method.inpaint(images, masks)
                times.append(time.perf_counter() - start)
    return batch / statistics.median(times)


def compare(batch: int, args, device: str, precision: str, channels_last: bool) -> None:
    engine, plain = [], []
    for _ in range(args.repeats):
        engine += engine_step_times(batch, args.warmup + args.steps, device, precision, channels_last, args.workers)[args.warmup - 1 :]
        plain += plain_step_times(batch, args.warmup + args.steps, device, precision, channels_last)[args.warmup :]
    e, p = statistics.median(engine), statistics.median(plain)
    print(
        f"batch {batch:3d} {device} {precision}{' channels_last' if channels_last else ''}: "
        f"engine {batch / e:7.2f} img/s ({e:.3f} s/step)   plain loop {batch / p:7.2f} img/s ({p:.3f} s/step)   "
        f"engine overhead {100 * (e / p - 1):+.1f} %",
        flush=True,
    )


def baselines(args, device: str, precision: str, channels_last: bool, batches: list[int]) -> None:
    """Engine images/s of the learned baselines' costliest step (no plain loop: the engine is shared)."""
    for method in args.methods.split(","):
        for batch in batches:
            times = []
            for _ in range(args.repeats):
                times += engine_step_times(batch, args.warmup + args.steps, device, precision, channels_last, args.workers, method)[args.warmup - 1 :]
            step = statistics.median(times)
            print(f"{method:>15} batch {batch:3d} {device} {precision}{' channels_last' if channels_last else ''}: "
                  f"engine {batch / step:8.2f} img/s ({step:.3f} s/step)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6, help="timed steps per run")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps at the start of each run")
    parser.add_argument("--repeats", type=int, default=2, help="engine/plain run pairs per configuration")
    parser.add_argument("--batches", default="16,64")
    parser.add_argument("--workers", type=int, default=0, help="engine data-loading workers")
    parser.add_argument("--devices", default="cpu,cuda", help="which of cpu, cuda to measure (cuda only where available)")
    parser.add_argument("--gpu-batches", default="64,100,256")
    parser.add_argument("--methods", default="context-encoder,glcic", help="learned baselines to time on the engine ('' for none)")
    args = parser.parse_args()
    devices = args.devices.split(",")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, ours at full size (phase 3 step: G + D_L + D_G)")
    if "cpu" in devices:
        for batch in map(int, args.batches.split(",")):
            compare(batch, args, "cpu", "fp32", False)
        print(f"inference (inpaintbench run ours, batch 64, cpu): {inference_images_per_second(64, 'cpu', 3):.1f} img/s")
        if args.methods:
            baselines(args, "cpu", "fp32", False, [16])
    if "cuda" not in devices:
        return
    if torch.cuda.is_available():
        print(f"GPU: {torch.cuda.get_device_name()}")
        for batch in [int(b) for b in args.gpu_batches.split(",") if b]:
            compare(batch, args, "cuda", "bf16", True)
        for bf16 in (False, True) if args.gpu_batches else ():
            rate = inference_images_per_second(256, "cuda", 10, bf16)
            print(f"inference (batch 256, cuda, {'bf16 autocast' if bf16 else 'fp32'}): {rate:.1f} img/s")
        if args.methods:
            baselines(args, "cuda", "bf16", True, [64, 256])
    else:
        print("GPU: none available here; run this script on a CUDA machine for bf16 + channels_last figures")

if __name__ == "__main__":
    main()
