"""Sensors: GPIO inputs declared in ``[sensors]``, their readings, and their health.

- ``config``: the ``[sensors]`` section, validated (``parse_sensors``).
- ``readings``: ``SensorReading`` and its recording form; the bounded hand-over queue.
- ``gpio_in``: ``SensorBank``, the gpiozero edge, and the ``exhibit sensors`` live view.
- ``health``: per-sensor health (ok, disconnected, stuck, flapping), pure.

See docs/sensors-and-fusion.md.
"""
