# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: what crosses the wire is checked and bounded.

URLs are judged the way urllib3 (and so requests) will connect, not the way urllib.parse reads them: the two
disagree on URLs such as ``https://other:1\\@api:2/``, and a check that reads one while requests sends to the other
is no check. Answers are read with a size cap and a total deadline, and JSON is parsed with a depth cap, so a
hostile server or proxy can neither exhaust memory nor hold a task past its timeout.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import itertools
import json
import re
import time
from urllib.parse import quote, urlsplit

try:  # requests' own URL parser; present whenever requests is, which the module checks for
    from urllib3.util import parse_url
except ImportError:  # pragma: no cover
    parse_url = None

# The largest JSON answer read (option max_response_mb); an API page of 10,000 machines is a few MiB.
DEFAULT_MAX_RESPONSE_MB = 64
# Defender entities nest a handful of levels; anything deeper than this is an attack on the parser.
MAX_JSON_DEPTH = 64
_READ_CHUNK = 64 * 1024
# A JSON string, so that brackets inside strings are not counted as nesting.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class BodyTooLarge(Exception):
    """The answer passed the size cap (`read` bytes were read when it stopped)."""

    def __init__(self, read):
        super(BodyTooLarge, self).__init__(read)
        self.read = read


class DeadlinePassed(Exception):
    """The answer did not arrive in full before the request's total deadline."""

    def __init__(self, read):
        super(DeadlinePassed, self).__init__(read)
        self.read = read


class TooDeep(ValueError):
    """JSON nested deeper than MAX_JSON_DEPTH (a ValueError, so callers treat it as "not JSON")."""


def origin(url):
    """(scheme, host, port) where urllib3 -- and so requests -- will really connect for `url`."""
    parts = parse_url(url)
    scheme = (parts.scheme or "").lower()
    return scheme, (parts.host or "").lower(), parts.port or (443 if scheme == "https" else 80)


def url_problem(url):
    """Why `url` must not carry a credential, or None. Refused: a backslash (parsers disagree on what it ends),
    userinfo (``user@`` is how a host is hidden), and any URL that urllib.parse and urllib3 place on different
    hosts."""
    if "\\" in url:
        return "it contains a backslash"
    try:
        mine, theirs = urlsplit(url), parse_url(url)
        mine_port = mine.port
    except ValueError:
        return "it cannot be parsed"
    if theirs.auth or mine.username is not None or mine.password is not None or "@" in (mine.netloc or ""):
        return "it names a user (user@host)"
    scheme = (mine.scheme or "").lower()
    default = 443 if scheme == "https" else 80
    if ((mine.hostname or "").lower(), mine_port or default) != origin(url)[1:]:
        return "its host is ambiguous"
    return None


def host_matches(host, patterns):
    """Whether `host` is one of `patterns`: exact names, or ``*.suffix`` for any name under suffix."""
    host = (host or "").lower().rstrip(".")
    for pattern in patterns:
        pattern = pattern.lower().strip().rstrip(".")
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
        elif host == pattern:
            return True
    return False


def read_body(response, max_bytes, deadline, clock=time.monotonic):
    """Read a streamed requests response whole, at most `max_bytes` and until `deadline` (a `clock()` time).

    Each read returns as soon as some bytes are there (read1), so a body trickled a byte at a time is cut off at
    the deadline rather than after every byte has come within the per-read timeout."""
    raw = response.raw
    # urllib3 2.x: read1 returns what one socket read gave; older urllib3 falls back to small reads. Decoded (gzip)
    # bytes are what is counted, so a compressed bomb stops at the cap too.
    if hasattr(raw, "read1"):
        def read():
            return raw.read1(_READ_CHUNK, decode_content=True)
    else:  # pragma: no cover - urllib3 1.x
        def read():
            return raw.read(1024, decode_content=True)
    chunks, size = [], 0
    while True:
        if clock() > deadline:
            raise DeadlinePassed(size)
        chunk = _translated(read)
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge(size)
        chunks.append(chunk)
    return b"".join(chunks)


def _translated(read):
    """Call `read`, raising urllib3's errors as the requests exceptions iter_content would have raised."""
    import requests  # deferred: the module checks it is installed
    from urllib3 import exceptions as raw_errors
    try:
        return read()
    except raw_errors.ReadTimeoutError as exc:
        raise requests.exceptions.ReadTimeout(exc)
    except raw_errors.SSLError as exc:
        raise requests.exceptions.SSLError(exc)
    except raw_errors.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc)
    except (raw_errors.ProtocolError, raw_errors.HTTPError, OSError) as exc:
        raise requests.exceptions.ChunkedEncodingError(exc)


def json_depth(text):
    """The deepest nesting of arrays and objects in JSON text, counted without recursion."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    return max(itertools.accumulate(_DEPTH_STEP[c] for c in brackets), default=0)


def loads_bounded(data, max_depth=MAX_JSON_DEPTH):
    """json.loads, refusing nesting deeper than `max_depth` with TooDeep (never a RecursionError)."""
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    if json_depth(text) > max_depth:
        raise TooDeep("JSON nested deeper than %d levels" % max_depth)
    try:
        return json.loads(text)
    except RecursionError:  # the scan is exact, but a parser's own limit must still never escape
        raise TooDeep("JSON nested too deep to parse")


def quote_segment(value):
    """A value put into one segment of a path: every character that could end or change the segment is escaped."""
    return quote(str(value), safe="")
