"""Host side of the serial protocol to the exhibit's microcontroller, and its firmware.

Filled in by the sensors issue: framing, codec, link with reconnects, and the reference
firmware with its simulator. Kept as a package now so that the layout is the design card's.
"""
