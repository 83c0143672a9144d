"""Training runs small enough for the tests: ``ours`` at a tiny width, about a second per run on a CPU."""

from __future__ import annotations

from inpaintbench.training import TrainConfig

#: ``ours`` at 1/16 of its width with a 16-channel bottleneck: the engine is method-agnostic, so a small net tests it
TINY = {"width": "0.0625", "bottleneck": "16"}


def tiny_config(out, **changes) -> TrainConfig:
    """Six steps of tiny ``ours`` on the sample set into ``out``, no checkpoints or samples on the way; ``changes`` override."""
    values = dict(
        method="ours", dataset="sample", out=str(out), steps=6, batch_size=4, workers=0,
        checkpoint_every=1000, sample_every=1000, options=dict(TINY),
    )
    values.update(changes)
    return TrainConfig(**values)
