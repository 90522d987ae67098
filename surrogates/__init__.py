"""Fast, uncertainty-aware stand-ins for the FEM service models."""

__all__: list[str] = []
