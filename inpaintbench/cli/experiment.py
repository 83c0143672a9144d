"""``inpaintbench experiment NAME``: the paper's tables and figures, one subcommand each."""

from __future__ import annotations

import click


@click.group("experiment")
def experiment_group() -> None:
    """Reproduce the paper's experiments (Tables VI-VII, Figs. 10-16); see docs/experiments.md."""


COMMANDS = (experiment_group,)
