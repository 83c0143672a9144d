"""Scorers (placeholder while the scorer registry is being written)."""


class Scorer:
    name = ""
