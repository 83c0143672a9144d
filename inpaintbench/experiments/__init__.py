"""The paper's experiments, each regenerated from one command into one experiment directory.

Every experiment writes all of its outputs under one directory and records
which stages are finished, so a rerun of the same command skips what is done
and continues what was interrupted.  See docs/experiments.md.
"""
