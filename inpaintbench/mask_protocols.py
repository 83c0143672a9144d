"""Mask protocols (placeholder while the mask-protocol registry is being written)."""


class MaskProtocol:
    name = ""
