"""Fleet telemetry: an exhibit reports to the museum's MQTT broker and takes commands from it.

``config`` (the ``[telemetry]`` section), ``mqtt`` (the publisher, an edge on its own thread),
``commands`` and ``buffer`` (pure: remote commands, the bounded outbox), ``probe``
(``exhibit telemetry check``). Importing this package imports no MQTT library; see
docs/telemetry.md.
"""
