"""MQTT in and out, payload schema, validation and the sensor archive."""

__all__: list[str] = []
