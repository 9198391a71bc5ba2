# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: the rate budget and the submit locks in a Redis that many controllers share.

The files of _budget.py and _locks.py hold for the forks of one controller. AWX/AAP jobs run in pods of their own,
job slices on different nodes, and an EDA activation fires a job per alert: they share one tenant's limits but no
folder. With `coordination_url` the same state lives in Redis, with the same semantics:
- the budget's check-and-reserve is one Lua script (atomic in Redis), on Redis' own clock, so controllers whose
  clocks disagree still count one window;
- a submit lock is `SET NX PX` with a token of its holder, renewed while held; the journal (the action submitted
  under the lock) is written by a script that first checks the token, so a holder that lost its lock cannot write.
Nothing falls back to local files: a store that cannot be reached fails the task before anything is sent.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json
import math
import threading
import time
import uuid

from ansible_collections.secops.defender.plugins.module_utils._budget import IN_FLIGHT_GRACE, LEGACY_PAUSE_BOUND
from ansible_collections.secops.defender.plugins.module_utils._errors import (
    DefenderError,
    DefenderInputError,
    DefenderRateLimitError,
)
from ansible_collections.secops.defender.plugins.module_utils._locks import JOURNAL_LIFETIME

try:
    import redis
    from redis.exceptions import RedisError
    HAS_REDIS = True
except ImportError:
    redis = None
    RedisError = OSError   # never raised without the library
    HAS_REDIS = False

REDIS_FLOOR = "5.0.0"
# A lock whose holder stopped renewing it (the process died) frees itself after this long.
LOCK_LEASE = 30.0
# How far apart two controllers' clocks may be when the journal is compared with a look-up's start.
SKEW_MARGIN = 2.0

# KEYS: done (zset of answer times), open (hash ticket -> until), pause (string: until)
# ARGV: ticket, in-flight bound (seconds), then calls1, seconds1, calls2, seconds2, ...
# Returns {1, now} when the slot was taken, {0, seconds to wait} when not (numbers as strings: Lua floats).
RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local open = redis.call('HGETALL', KEYS[2])
for i = 1, #open, 2 do
  local untl = tonumber(open[i + 1])
  if untl <= now then
    redis.call('ZADD', KEYS[1], untl, open[i])
    redis.call('HDEL', KEYS[2], open[i])
  end
end
local longest = 0
for i = 3, #ARGV, 2 do longest = math.max(longest, tonumber(ARGV[i + 1])) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - longest)
local in_flight = redis.call('HLEN', KEYS[2])
local wait = 0
local paused = redis.call('GET', KEYS[3])
if paused then wait = math.max(wait, tonumber(paused) - now) end
for i = 3, #ARGV, 2 do
  local calls, seconds = tonumber(ARGV[i]), tonumber(ARGV[i + 1])
  local floor = '(' .. string.format('%.6f', now - seconds)
  local recent = redis.call('ZCOUNT', KEYS[1], floor, '+inf')
  local count = recent + in_flight
  if count >= calls then
    local position = count - calls
    local oldest = now
    if position < recent then
      oldest = tonumber(redis.call('ZRANGEBYSCORE', KEYS[1], floor, '+inf', 'WITHSCORES', 'LIMIT', position, 1)[2])
    end
    wait = math.max(wait, oldest + seconds - now)
  end
end
if wait > 0 then return {0, string.format('%.6f', wait)} end
redis.call('HSET', KEYS[2], ARGV[1], string.format('%.6f', now + tonumber(ARGV[2])))
local ttl = math.ceil(longest + tonumber(ARGV[2]) + 60)
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[2], ttl)
return {1, string.format('%.6f', now)}
"""

# KEYS: done, open. ARGV: ticket. The answer arrived: the call counts from now on.
DONE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
if redis.call('HDEL', KEYS[2], ARGV[1]) == 1 then
  redis.call('ZADD', KEYS[1], now, ARGV[1])
end
return 1
"""

# KEYS: pause. ARGV: seconds (already within its bound). A later pause never shortens an earlier one.
PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local untl = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untl > current and tonumber(ARGV[1]) > 0 then
  redis.call('SET', KEYS[1], string.format('%.6f', untl), 'PX', math.ceil(tonumber(ARGV[1]) * 1000))
end
return 1
"""

# KEYS: lock, journal. ARGV: token, payload (JSON without "at"), lifetime. Written only by the lock's holder.
RECORD = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('SET', KEYS[2], string.format('%.6f', now) .. ' ' .. ARGV[2], 'EX', tonumber(ARGV[3]))
return 1
"""

# KEYS: lock. ARGV: token, lease (ms). Renew or release only one's own lock.
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def describe(url):
    """The store as a message may name it: scheme, host and port, never the password."""
    try:
        from urllib.parse import urlsplit
        parts = urlsplit(url)
        return "%s://%s:%s" % (parts.scheme, parts.hostname, parts.port or 6379)
    except ValueError:
        return "the coordination store"


def store_error(url, exc, doing):
    return DefenderError(
        "The coordination store %s could not be used while %s (%s); nothing was sent to the API." % (
            describe(url), doing, type(exc).__name__),
        code="CoordinationStore",
        hint="Check that the store is up and reachable from this host, and its password and TLS settings in "
             "coordination_url (DEFENDER_COORDINATION_URL). Without it, jobs on other controllers would not share "
             "this tenant's rate budget and submit locks, so the task does not fall back to local files.")


class RedisStore:
    """One connection to the store, checked when it is made, and the scripts registered on it."""

    def __init__(self, url, ca_path=None, timeout=10):
        if not HAS_REDIS:
            raise DefenderInputError(
                "coordination_url needs the redis Python library (redis>=%s) on the host that runs the module: "
                "pip install 'redis>=%s', or add it to the execution environment." % (REDIS_FLOOR, REDIS_FLOOR),
                code="MissingLibrary")
        if not url.startswith(("redis://", "rediss://")):
            raise DefenderInputError("coordination_url must be a redis:// or rediss:// URL, not %s."
                                     % describe(url).split(":", 1)[0])
        self.url = url
        options = dict(socket_timeout=timeout, socket_connect_timeout=timeout, health_check_interval=30)
        if url.startswith("rediss://") and ca_path:
            options["ssl_ca_certs"] = ca_path
        try:
            self.client = redis.Redis.from_url(url, **options)
            before = time.time()
            seconds, micros = self.client.time()
            after = time.time()
        except (RedisError, OSError, ValueError) as exc:
            raise store_error(url, exc, "connecting")
        # Redis' clock minus ours, measured at the middle of the round trip.
        self.offset = seconds + micros / 1e6 - (before + after) / 2
        self.scripts = dict((name, self.client.register_script(text)) for name, text in
                            (("reserve", RESERVE), ("done", DONE), ("pause", PAUSE), ("record", RECORD),
                             ("renew", RENEW), ("release", RELEASE)))

    def run(self, name, keys, args, doing):
        try:
            return self.scripts[name](keys=keys, args=args)
        except (RedisError, OSError) as exc:
            raise store_error(self.url, exc, doing)


_STORES = {}
_STORES_LOCK = threading.Lock()


def store_for(url, ca_path=None, timeout=10):
    """One RedisStore per URL and CA in this process: the budget and the locks of a task share its connection."""
    with _STORES_LOCK:
        key = (url, ca_path)
        if key not in _STORES:
            _STORES[key] = RedisStore(url, ca_path, timeout)
        return _STORES[key]


class RedisBudget:
    """RateBudget's interface and semantics, with its windows in Redis."""

    def __init__(self, store, key, limits, sleep=time.sleep):
        self.store = store
        self.prefix = "secops.defender:{budget-%s}:" % key
        self.limits = limits
        self._sleep = sleep
        self.stats = {"calls": 0, "paced_calls": 0, "paced_seconds": 0.0, "rate_limited": 0}

    def _windows(self, klass):
        return self.limits.get(klass) or self.limits["default"]

    def _keys(self, klass):
        return [self.prefix + "done:" + klass, self.prefix + "open:" + klass, self.prefix + "pause:" + klass]

    def reserve(self, klass, max_wait, timeout=60):
        waited = 0.0
        windows = [str(value) for pair in self._windows(klass) for value in pair]
        while True:
            token = uuid.uuid4().hex[:12]
            taken, value = self.store.run("reserve", self._keys(klass),
                                          [token, str(timeout + IN_FLIGHT_GRACE)] + windows, "reserving a call")
            if int(taken):
                self.stats["calls"] += 1
                if waited:
                    self.stats["paced_calls"] += 1
                    self.stats["paced_seconds"] += waited
                return (klass, token)
            wait = float(value)
            if waited + wait > max_wait:
                refill = time.strftime("%H:%M:%S", time.localtime(time.time() + wait))
                raise DefenderRateLimitError(
                    "The tenant's rate budget for %s calls (shared through %s) is spent until %s (in %d seconds); "
                    "this request may wait at most %d seconds (max_retry_wait)." % (
                        "these" if klass == "default" else klass, describe(self.store.url), refill,
                        int(wait + 0.999), int(max_wait)),
                    code="RateBudgetSpent",
                    hint="Raise max_retry_wait to let the task wait for the budget, run fewer devices per hour, or "
                         "run again after %s. The limits in use are %s." % (refill, self._windows(klass)))
            step = min(wait, 5.0) + 0.005
            self._sleep(step)
            waited += step

    def done(self, ticket):
        klass, token = ticket
        self.store.run("done", self._keys(klass)[:2], [token], "recording a call")

    def pause(self, klass, seconds, bound=None):
        self.stats["rate_limited"] += 1
        bound = max(0.0, float(LEGACY_PAUSE_BOUND if bound is None else bound))
        try:
            seconds = float(seconds or 0)
        except (TypeError, ValueError):
            seconds = 0.0
        # As the file budget does: an endless or unreadable Retry-After pauses nobody; any other is cut to bound.
        seconds = min(max(0.0, seconds), bound) if math.isfinite(seconds) else 0.0
        self.store.run("pause", self._keys(klass)[2:], ["%.3f" % seconds], "recording a 429 pause")

    def report(self):
        return dict(self.stats, paced_seconds=round(self.stats["paced_seconds"], 1))


class RedisJournal:
    """The last action submitted under one lock, and when (Redis' clock), as _locks.Journal offers it."""

    def __init__(self, store, lock_key, journal_key, token):
        self.store = store
        self.keys = [lock_key, journal_key]
        self.token = token
        self.entry = None
        try:
            raw = store.client.get(journal_key)
        except (RedisError, OSError) as exc:
            raise store_error(store.url, exc, "reading a submit lock's journal")
        if raw:
            try:
                at, payload = raw.decode("utf-8").split(" ", 1)
                self.entry = {"at": float(at), "action": json.loads(payload)}
            except (ValueError, UnicodeDecodeError):
                self.entry = None

    def newer_than(self, since):
        """The recorded action if it was recorded after `since` (this host's epoch seconds), else None. The clocks
        are aligned by the offset measured at connection, with a margin: adopting an equal action a little older
        than the look-up is harmless, sending a second one is not."""
        if self.entry and self.entry["at"] >= since + self.store.offset - SKEW_MARGIN:
            return self.entry["action"]
        return None

    def record(self, action):
        payload = json.dumps(action)
        written = self.store.run("record", self.keys, [self.token, payload, str(JOURNAL_LIFETIME)],
                                 "recording a submitted action")
        if not int(written):
            # The lease ran out (the store was out of reach longer than LOCK_LEASE): another holder may be in.
            raise DefenderError("The submit lock in %s was lost before the action %s could be recorded; another "
                                "job may not see it." % (describe(self.store.url), action.get("id")),
                                code="CoordinationStore")
        self.entry = {"at": time.time() + self.store.offset, "action": action}


class RedisLocks:
    """SubmitLocks' interface: one lock per (scope, device, action type, key), held across controllers."""

    def __init__(self, store, scope_key, poll=0.05, lease=LOCK_LEASE):
        self.store = store
        self.scope_key = scope_key
        self.poll = poll
        self.lease = lease

    def _keys(self, machine_id, action_type, key):
        import hashlib
        raw = "\n".join([self.scope_key, (machine_id or "").lower(), action_type, key or ""])
        name = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:40]
        return "secops.defender:lock:" + name, "secops.defender:journal:" + name

    @contextlib.contextmanager
    def hold(self, machine_id, action_type, key=""):
        lock_key, journal_key = self._keys(machine_id, action_type, key)
        token = uuid.uuid4().hex
        lease_ms = int(self.lease * 1000)
        try:
            while not self.store.client.set(lock_key, token, nx=True, px=lease_ms):
                time.sleep(self.poll)
        except (RedisError, OSError) as exc:
            raise store_error(self.store.url, exc, "taking a submit lock")
        stop = threading.Event()
        renewer = threading.Thread(target=self._renew, args=(lock_key, token, lease_ms, stop), daemon=True)
        renewer.start()
        try:
            yield RedisJournal(self.store, lock_key, journal_key, token)
        finally:
            stop.set()
            renewer.join()
            try:
                self.store.run("release", [lock_key], [token], "releasing a submit lock")
            except DefenderError:
                pass   # its lease frees it within LOCK_LEASE

    def _renew(self, lock_key, token, lease_ms, stop):
        while not stop.wait(self.lease / 3):
            try:
                self.store.run("renew", [lock_key], [token, str(lease_ms)], "renewing a submit lock")
            except DefenderError:
                pass   # the journal's fenced write tells whether the lock survived

    def prune(self, now=None, lifetime=JOURNAL_LIFETIME):
        """Nothing to do: every key in the store expires by itself."""
        return 0
