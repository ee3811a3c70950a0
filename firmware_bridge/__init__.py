"""Host side of the serial protocol to the exhibit's microcontroller, and its firmware.

* ``PROTOCOL.md`` -- every byte on the wire, with a worked example checked by the tests.
* ``codec`` -- COBS framing, CRC-16/CCITT-FALSE, the messages, and a never-raising ``Receiver``;
  pure, and shared with the firmware (it runs on MicroPython too).
* ``link`` -- ``BridgeLink``: the reader thread (pyserial URL, reconnect with backoff, HELLO and
  heartbeat watchdog, commands with ACK/NACK/timeout, counters); never raises once built.
* ``clock`` -- the device's millisecond clock mapped to the host's (robust offset and drift).
* ``items`` -- what the link hands over: ``BridgeReading``, ``BridgeEvent``, ``DeviceError``.
* ``config`` -- the ``[bridge]`` config section; ``urls`` -- device paths and pyserial URLs.
* ``firmware/`` -- the reference firmware for a Raspberry Pi Pico (MicroPython) and its HAL.
* ``sim`` -- that firmware on CPython behind a pty (``python -m firmware_bridge.sim``).
* ``errors`` -- the bridge's exceptions, under ``exhibit.errors.ExhibitError``.
"""
