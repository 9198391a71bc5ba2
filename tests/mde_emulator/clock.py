"""The emulator's clock: real time at a configurable speed, plus whatever a test advanced it by."""

import datetime
import threading
import time


class Clock:
    def __init__(self, speed=1.0, start=None):
        self._lock = threading.Lock()
        self._base = start if start is not None else time.time()
        self._mono = time.monotonic()
        self._speed = float(speed)
        self._offset = 0.0

    def now(self):
        """Seconds since the epoch on the emulated clock."""
        with self._lock:
            return self._base + (time.monotonic() - self._mono) * self._speed + self._offset

    def advance(self, seconds):
        with self._lock:
            self._offset += float(seconds)

    def set_speed(self, speed):
        # Re-anchor so that changing speed never makes time jump.
        current = self.now()
        with self._lock:
            self._base = current - self._offset
            self._mono = time.monotonic()
            self._speed = float(speed)

    @property
    def speed(self):
        return self._speed


def iso(ts):
    """Format epoch seconds the way the Defender API does."""
    if ts is None:
        return None
    dt = datetime.datetime.fromtimestamp(ts, tz=datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%07dZ" % (dt.microsecond * 10)


def parse_iso(text):
    text = text.strip().strip("'")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    # Python < 3.11 can't read 7 fractional digits; trim them.
    if "." in text:
        head, dummy, rest = text.partition(".")
        frac = "".join(ch for ch in rest if ch.isdigit())
        tz = rest[len(frac):]
        text = head + "." + frac[:6] + tz
    dt = datetime.datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return dt.timestamp()
