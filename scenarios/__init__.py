"""Virtual plant, duty cycles, fault injection, record and replay, validation."""

__all__: list[str] = []
