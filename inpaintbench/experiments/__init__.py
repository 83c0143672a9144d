"""A toolkit for experiment plugins: resumable stages in one experiment directory, and their figures.

An experiment (a paper's table, an ablation, a study) is a plugin command
(the ``register_commands`` hook) built from these pieces:

- :mod:`.directory`: one directory per experiment; its settings are recorded
  once and a rerun that changes them is refused;
- :mod:`.stages`: rows (:class:`~.stages.Entry`), how to run them
  (:class:`~.stages.Runtime`), train-unless-trained
  (:func:`~.stages.ensure_trained`) and evaluate-what-is-missing
  (:func:`~.stages.evaluate_entries`), so a rerun of the same command skips
  what is done and continues what was interrupted;
- :mod:`.figures` and :mod:`.plots`: training-progress grids, loss curves and
  line plots as PNG.

:mod:`inpaintbench.cli.stages` adds the command-line side (runtime options,
a rich display of the stages).  The paper's own experiments are the
``inpaintbench_paper`` plugin; see docs/experiments.md.
"""
