"""The digital twin: state, assimilation, damage accounting, forecasting, service and CLI."""

__all__: list[str] = []
