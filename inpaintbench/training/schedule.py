"""Training phases and loss weights that follow them (the paper's Table I curriculum).

A run is split into phases by fractions of its length, so that a schedule
written once (40 % / 30 % / 30 %) scales to any number of steps.  In each
phase a loss weight is a constant or a linear ramp; a weight a phase does not
mention keeps the value it reached at the end of the previous phase (0 before
it is first set).  Each phase also names the networks that are updated in it,
so a "discriminators alone" phase (Iizuka et al. 2017) is a schedule, not a special case.
"""

from __future__ import annotations

import dataclasses

from ..errors import InpaintbenchError


@dataclasses.dataclass(frozen=True)
class Ramp:
    """A weight that moves linearly from ``start`` to ``end`` over its phase."""

    start: float
    end: float

    def at(self, progress: float) -> float:
        return self.start + (self.end - self.start) * progress


@dataclasses.dataclass(frozen=True)
class Phase:
    """One stage of training: its share of the run, its loss weights, the networks it updates."""

    name: str
    fraction: float
    weights: dict[str, float | Ramp]
    trains: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class PhaseState:
    """Where a step falls in the schedule: what the step function needs to know."""

    index: int
    name: str
    weights: dict[str, float]
    trains: frozenset[str]


class Schedule:
    """Phases laid over ``total_steps`` steps."""

    def __init__(self, phases: list[Phase]):
        if not phases:
            raise InpaintbenchError("a training schedule needs at least one phase")
        total = sum(phase.fraction for phase in phases)
        if any(phase.fraction < 0 for phase in phases) or abs(total - 1.0) > 1e-6:
            fractions = ", ".join(f"{p.name}={p.fraction}" for p in phases)
            raise InpaintbenchError(f"phase fractions must be non-negative and sum to 1 (got {fractions})")
        self.phases = list(phases)

    def boundaries(self, total_steps: int) -> list[int]:
        """First step of each phase, then ``total_steps``."""
        edges, cumulative = [0], 0.0
        for phase in self.phases[:-1]:
            cumulative += phase.fraction
            edges.append(round(cumulative * total_steps))
        return [*edges, total_steps]

    def at(self, step: int, total_steps: int) -> PhaseState:
        """The phase and weights of 0-based ``step`` in a run of ``total_steps``."""
        edges = self.boundaries(total_steps)
        values = {name: 0.0 for phase in self.phases for name in phase.weights}
        for index, phase in enumerate(self.phases):
            start, end = edges[index], edges[index + 1]
            current = start <= step < end or (index == len(self.phases) - 1 and step >= end)
            # inside the phase: progress so far; a finished phase contributes its final values
            progress = (step - start + 1) / max(end - start, 1) if current else 1.0
            for name, weight in phase.weights.items():
                values[name] = weight.at(min(progress, 1.0)) if isinstance(weight, Ramp) else float(weight)
            if current:
                return PhaseState(index, phase.name, values, frozenset(phase.trains))
        raise AssertionError("unreachable: the last phase absorbs every later step")

    def describe(self, total_steps: int) -> list[dict]:
        """The schedule as recorded with a run."""
        edges = self.boundaries(total_steps)
        return [
            {
                "name": phase.name,
                "steps": [edges[i], edges[i + 1]],
                "weights": {k: dataclasses.asdict(w) if isinstance(w, Ramp) else w for k, w in phase.weights.items()},
                "trains": list(phase.trains),
            }
            for i, phase in enumerate(self.phases)
        ]


def parse_fractions(text: str, count: int) -> list[float]:
    """``"0.4,0.3,0.3"`` -> [0.4, 0.3, 0.3], checked against the number of phases."""
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise InpaintbenchError(f"phase fractions {text!r} must be comma-separated numbers") from None
    if len(values) != count:
        raise InpaintbenchError(f"phase fractions {text!r} must have {count} values, one per phase")
    return values
