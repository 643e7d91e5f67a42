"""The simulated air: a virtual clock with an event queue, channels, radios, and the capture.

Nothing here sleeps: :meth:`EventLoop.run` jumps from one event to the next. A frame a radio transmits
is recorded once (time, channel, octets) and delivered after its airtime to every other radio tuned
to that channel at delivery time. Everything is deterministic: events at the same instant run in the
order they were scheduled.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from krackwatch.wire.capture import PcapngWriter
from krackwatch.wire.radiotap import (
    Channel,
    ChannelFlags,
    Radiotap,
    RadiotapBit,
    RadiotapItem,
    encode_radiotap,
)

__all__ = [
    "Air",
    "AirFrame",
    "EventLoop",
    "Port",
    "Scheduler",
    "Timer",
    "channel_freq",
    "write_pcapng",
]

LINKTYPE_IEEE802_11_RADIOTAP = 127
# Virtual time 0 is 2017-10-16 00:00:00 UTC, the day KRACK was published (captures are deterministic).
EPOCH_NS = 1_508_112_000 * 1_000_000_000


def channel_freq(channel: int) -> int:
    """Centre frequency in MHz of a 2.4 GHz (1-14) or 5 GHz channel number."""
    if channel == 14:
        return 2484
    if 1 <= channel <= 13:
        return 2407 + 5 * channel
    return 5000 + 5 * channel


class Timer:
    """A scheduled call; :meth:`cancel` makes it a no-op."""

    __slots__ = ("alive", "fn", "when")

    def __init__(self, when: float, fn: Callable[[], None]) -> None:
        self.when = when
        self.fn = fn
        self.alive = True

    def cancel(self) -> None:
        self.alive = False


class Scheduler(Protocol):
    """What a station needs from time: the current instant and timers."""

    @property
    def now(self) -> float: ...

    def at(self, when: float, fn: Callable[[], None]) -> Timer: ...


class EventLoop:
    """Virtual clock and event queue."""

    __slots__ = ("_heap", "_seq", "events", "now")

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Timer]] = []
        self._seq = itertools.count()
        self.now = 0.0
        self.events = 0

    def at(self, when: float, fn: Callable[[], None]) -> Timer:
        timer = Timer(max(when, self.now), fn)
        heapq.heappush(self._heap, (timer.when, next(self._seq), timer))
        return timer

    def run(self, until: float, stop: Callable[[], bool] | None = None) -> None:
        """Run events up to virtual time ``until`` (inclusive), or until ``stop()`` becomes true."""
        heap = self._heap
        pop = heapq.heappop
        while heap and heap[0][0] <= until:
            when, _, timer = pop(heap)
            if not timer.alive:
                continue
            self.now = when
            timer.alive = False
            self.events += 1
            timer.fn()
            if stop is not None and stop():
                return
        self.now = max(self.now, until)


@dataclass(frozen=True, slots=True)
class AirFrame:
    """One transmission: when, on which channel, the MPDU (no FCS), who sent it, and a note for the
    capture (an EPB comment) when the lab has something to say about it."""

    time: float
    channel: int
    data: bytes
    sender: str
    comment: str | None = None


class Port:
    """A radio attached to the air: a name, a channel, and what to do with a received MPDU."""

    __slots__ = ("air", "busy_until", "channel", "name", "on_frame")

    def __init__(self, air: Air, name: str, channel: int, on_frame: Callable[[bytes, int], None]) -> None:
        self.air = air
        self.name = name
        self.channel = channel
        self.on_frame = on_frame
        self.busy_until = 0.0  # a radio sends one frame at a time

    def send(self, data: bytes, comment: str | None = None) -> None:
        self.air.transmit(self, data, comment)

    def tune(self, channel: int) -> None:
        self.channel = channel


class Air:
    """The shared medium. Delivery takes the frame's airtime (6 Mbit/s plus a fixed preamble)."""

    __slots__ = ("frames", "loop", "ports", "record")

    def __init__(self, loop: EventLoop, *, record: bool = True) -> None:
        self.loop = loop
        self.ports: list[Port] = []
        self.frames: list[AirFrame] = []
        self.record = record

    def port(self, name: str, channel: int, on_frame: Callable[[bytes, int], None]) -> Port:
        p = Port(self, name, channel, on_frame)
        self.ports.append(p)
        return p

    def transmit(self, sender: Port, data: bytes, comment: str | None = None) -> None:
        """Queue ``data`` on the sender's radio: it goes on the air when the previous frame ended."""
        channel = sender.channel
        start = max(self.loop.now, sender.busy_until)
        end = start + 40e-6 + len(data) * 8 / 6e6
        sender.busy_until = end
        if self.record:
            self.frames.append(AirFrame(start, channel, data, sender.name, comment))

        def deliver() -> None:
            for p in self.ports:
                if p is not sender and p.channel == channel:
                    p.on_frame(data, channel)

        self.loop.at(end, deliver)


def _radiotap(channel: int, signal: int) -> bytes:
    freq = channel_freq(channel)
    band = ChannelFlags.GHZ_2 if freq < 3000 else ChannelFlags.GHZ_5
    rt = Radiotap(0, 0, 0, (0x2E,), (
        RadiotapItem(RadiotapBit.FLAGS, 0),
        RadiotapItem(RadiotapBit.RATE, 12),  # 6 Mbit/s in 500 kbit/s units
        RadiotapItem(RadiotapBit.CHANNEL, Channel(freq, int(band | ChannelFlags.OFDM))),
        RadiotapItem(RadiotapBit.DBM_ANTSIGNAL, signal),
    ))
    return encode_radiotap(rt)


def write_pcapng(frames: list[AirFrame], fileobj: BinaryIO, *, comment: str | None = None) -> int:
    """Write the air as a radiotap pcapng (one interface per channel); returns the record count."""
    writer = PcapngWriter(fileobj, application="krackwatch lab", comment=comment)
    interfaces: dict[int, tuple[int, bytes]] = {}
    for f in frames:
        entry = interfaces.get(f.channel)
        if entry is None:
            iface = writer.add_interface(LINKTYPE_IEEE802_11_RADIOTAP, name=f"lab-ch{f.channel}")
            entry = interfaces[f.channel] = (iface, _radiotap(f.channel, -42))
        iface, head = entry
        ts = EPOCH_NS + round(f.time * 1e9)
        writer.write(iface, ts, head + f.data, comments=(f.comment,) if f.comment else ())
    writer.flush()
    return len(frames)
