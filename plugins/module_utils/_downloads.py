# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: result downloads (live response results, investigation packages) and their checks.

A result link is a short-lived SAS URL on the cloud's storage: it is its own credential, so the bearer token never
goes with it, it is followed only over https to the storage hosts (download_hosts), its query is never shown, and
what arrives is checked against what the storage said it sent before it counts as evidence.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib

try:  # requests' own transport; present whenever requests is, which the module checks for
    import urllib3.exceptions as urllib3_errors
except ImportError:  # pragma: no cover
    urllib3_errors = None

from ansible_collections.secops.defender.plugins.module_utils._errors import (
    DefenderApiError,
    DefenderIntegrityError,
    DefenderTransportError,
    DefenderUnsafeResponseError,
    describe_transport_error,
    redact_url,
    transport_code,
)
from ansible_collections.secops.defender.plugins.module_utils._files import Beside
from ansible_collections.secops.defender.plugins.module_utils._retries import (
    backoff_delay,
    parse_retry_after,
    rate_limit_delay,
)
from ansible_collections.secops.defender.plugins.module_utils._transport import (
    BodyTooLarge,
    DeadlinePassed,
    host_matches,
    loads_bounded,
    origin,
    read_body,
    url_problem,
)
from ansible_collections.secops.defender.plugins.module_utils._version import USER_AGENT

# A result download is tried this often on one link, and with this many links (a link lives minutes).
DOWNLOAD_ATTEMPTS = 5
DOWNLOAD_LINKS = 3
TRANSIENT_STATUSES = (408, 429, 500, 502, 503, 504)
GZIP_TYPES = ("application/gzip", "application/x-gzip")
JSON_TYPES = ("application/json", "text/json")
HTML_TYPES = ("text/html",)
MAX_KEPT_JSON = 16 * 1024 * 1024
# A download is read in pieces of this size. 1 MB, not more: a piece this size is still in the CPU's cache when the
# stages beside the read (MD5, unpacking, SHA-256, the write) take it up, and it is allocated again from the heap's
# free memory rather than from fresh pages. benchmarks/downloads.py measured a quarter less CPU than with 2 MB reads
# and 4 MB unpacked pieces (which cost a page fault per 4 kB unpacked), and a few MB less peak RSS.
DOWNLOAD_CHUNK = 1024 * 1024


class Downloads:
    """The download half of DefenderClient (a mixin: it uses the client's session settings, budget and waits)."""

    def download_fresh(self, get_link, handle_factory, check=None):
        """Download through a short-lived link: `get_link()` asks the API for one, `handle_factory()` gives a fresh,
        empty handle for each attempt, and `check(handle)` (optional) raises DefenderIntegrityError when what arrived
        does not decode.

        A transient failure (429, 5xx, a dropped or short transfer, a checksum or decoding failure) restarts the
        download on the same link after a backoff; a link that has expired (403) is replaced by a fresh one. Bounded
        by DOWNLOAD_ATTEMPTS, DOWNLOAD_LINKS and max_retry_wait. Returns the number of bytes written."""
        started = self._clock()
        link, links, attempt = None, 0, 0
        while True:
            if link is None:
                link, links = get_link(), links + 1
            handle = handle_factory()
            retry_after = None
            try:
                written = self.download(link, handle)
                if check is not None:
                    check(handle)
                return written
            except DefenderUnsafeResponseError:
                raise  # a refused link is refused again: never retried
            except DefenderApiError as exc:
                if exc.status == 403 and links < DOWNLOAD_LINKS:
                    link = None  # expired (or its signature was refused): ask the API for another
                    continue
                if exc.status not in TRANSIENT_STATUSES:
                    raise
                error, retry_after = exc, getattr(exc, "retry_after", None)
            except DefenderTransportError as exc:
                error = exc
            attempt += 1
            delay = rate_limit_delay(retry_after, attempt) if error.status == 429 else backoff_delay(attempt)
            if attempt >= DOWNLOAD_ATTEMPTS or not self._budget_allows(started, delay):
                error.message = "%s (gave up after %d attempts with %d link(s))" % (error.message.rstrip("."),
                                                                                    attempt, links)
                raise error
            self._wait(delay)

    def _check_download_url(self, url):
        """A result link is followed only over https, to a storage host of the cloud (download_hosts): a link to
        any other host would save whatever that host sends as the evidence. Checked before a byte is read."""
        problem = url_problem(url)
        scheme, host, dummy = origin(url) if problem is None else ("", "", 0)
        if problem is None and (scheme, host, dummy) == self._origin:
            problem = "it points back at the API host"
        elif problem is None and scheme != "https":
            problem = "it is not https, so its signature would cross the network in clear text"
        elif problem is None and not host_matches(host, self.download_hosts):
            problem = "%s is not a storage host of this cloud (download_hosts: %s)" % (
                host, ", ".join(self.download_hosts) or "none")
        if problem:
            raise DefenderUnsafeResponseError(
                "Refusing to download a result from %s: %s." % (redact_url(url), problem), method="GET",
                path=redact_url(url), code="DownloadHostRefused",
                hint="If this host really serves your tenant's results (a lab, an emulator, a new storage region), "
                     "add it to download_hosts (or DEFENDER_DOWNLOAD_HOSTS), as a name or *.suffix.")

    def _error_text(self, response):
        """The start of an error body, read within bounds (a storage error is a few hundred bytes of XML)."""
        try:
            return read_body(response, 64 * 1024, self._clock() + self.timeout, self._clock).decode("utf-8", "replace")
        except (BodyTooLarge, DeadlinePassed, self._requests.exceptions.RequestException, urllib3_errors.HTTPError):
            return ""

    def download(self, url, handle, chunk_size=DOWNLOAD_CHUNK):
        """Stream a result link into `handle`, once. The bearer token never goes with it: the link is its own
        credential, on another host. Returns the number of bytes written, or raises with the link's query hidden.

        What arrived is checked against what the storage said it sent: Content-Length, Content-MD5 when given, and
        the gzip signature when the type says gzip. Only what is checked is hashed: MD5 only when the storage sent
        Content-MD5 (the file's own sha256 is the handle's business)."""
        requests = self._requests
        self._check_download_url(url)
        shown = redact_url(url)
        try:
            response = requests.get(url, stream=True, verify=self.verify, timeout=self.timeout,
                                    headers={"User-Agent": USER_AGENT}, allow_redirects=False)
        except requests.exceptions.RequestException as exc:
            raise DefenderTransportError(describe_transport_error(exc, url), method="GET", path=shown,
                                         code=transport_code(exc))
        with response:
            if response.status_code != 200:
                error = DefenderApiError("Downloading a result failed.", status=response.status_code,
                                         code=_blob_error(self._error_text(response)), method="GET", path=shown,
                                         correlation_id=response.headers.get("x-ms-request-id"))
                error.retry_after = parse_retry_after(response.headers.get("Retry-After"))
                raise error
            md5 = hashlib.new("md5", usedforsecurity=False) if response.headers.get("Content-MD5") else None
            written, head = 0, b""
            # A body declared as JSON is kept (up to a bound) to check that it parses.
            kept = bytearray() if _declared_type(response.headers) in JSON_TYPES else None
            # A large body is hashed and written beside the network reads: hashlib, zlib and file writes let go of
            # the GIL, so the download runs at the pace of its slowest stage rather than of their sum.
            length = response.headers.get("Content-Length") or ""
            beside = not (length.isdigit() and int(length) <= chunk_size)
            stages = [Beside(handle.write, beside)] + ([Beside(md5.update, beside)] if md5 is not None else [])
            try:
                try:
                    for chunk in response.raw.stream(chunk_size, decode_content=False):
                        if len(head) < 2:
                            head += chunk[:2]
                        if kept is not None and len(kept) < MAX_KEPT_JSON:
                            kept.extend(chunk)
                        for stage in stages:
                            stage.put(chunk)
                        written += len(chunk)
                except (requests.exceptions.RequestException, urllib3_errors.HTTPError) as exc:
                    raise DefenderTransportError("The download broke off after %d bytes: %s"
                                                 % (written, describe_transport_error(exc, url)), method="GET",
                                                 path=shown, code="DownloadBrokenOff")
            finally:
                for stage in stages:  # every stage has finished (or failed) before the handle is used again
                    stage.close()
            for stage in stages:
                stage.raise_error()
            _check_received(response.headers, written, md5, head, shown, kept)
        return written


def _declared_type(headers):
    return (headers.get("Content-Type") or "").split(";")[0].strip().lower()


def _check_received(headers, written, md5, head, shown, kept=None):
    """Raise DefenderIntegrityError when the body is not what the storage said it sent, or does not decode as the
    type it was declared as (JSON that does not parse, an HTML error page instead of a file)."""
    problem = None
    length = headers.get("Content-Length")
    expected_md5 = headers.get("Content-MD5")
    kind = _declared_type(headers)
    if length is not None and length.isdigit() and int(length) != written:
        problem = "%d of %s bytes arrived" % (written, length)
    elif md5 is not None and base64.b64encode(md5.digest()).decode("ascii") != expected_md5.strip():
        problem = "its MD5 does not match the Content-MD5 the storage sent"
    elif (kind in GZIP_TYPES or headers.get("Content-Encoding") == "gzip") and head[:2] != b"\x1f\x8b":
        problem = "it was sent as gzip but is not gzip"
    elif kind in HTML_TYPES:
        problem = "the answer is an HTML page (a proxy's or a portal's), not the result"
    elif kept is not None and len(kept) < MAX_KEPT_JSON:
        try:
            loads_bounded(bytes(kept))
        except ValueError:
            problem = "it was sent as JSON but does not parse (%d bytes)" % written
    if problem:
        raise DefenderIntegrityError("The download of %s is corrupt: %s." % (shown, problem), method="GET",
                                     path=shown, code="CorruptDownload")


def _blob_error(text):
    start, end = (text or "").find("<Code>"), (text or "").find("</Code>")
    return text[start + 6:end] if start >= 0 and end > start else None
