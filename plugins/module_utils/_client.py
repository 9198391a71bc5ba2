# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: the HTTP client for the Defender API.

One requests Session; `verify` and a timeout on every request; the bearer token only to the API host; 429 waits out
Retry-After within a budget; 5xx and connection errors are retried only when repeating is safe; a 401 refreshes the
token once; paging follows @odata.nextLink or $skip and refuses to loop. Every answer is bounded in size, time and
JSON nesting (_transport.py), and result links are followed only to the cloud's storage hosts.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import itertools
import json
import time
from urllib.parse import urlsplit

from ansible_collections.secops.defender.plugins.module_utils._cloud import CLOUDS
from ansible_collections.secops.defender.plugins.module_utils._errors import (
    DefenderApiError,
    DefenderAuthError,
    DefenderForbiddenError,
    DefenderNotFoundError,
    DefenderOutcomeUnknownError,
    DefenderRateLimitError,
    DefenderTransportError,
    DefenderUnsafeResponseError,
    describe_transport_error,
    redact_url,
    transport_code,
)
from ansible_collections.secops.defender.plugins.module_utils._budget import rate_class
from ansible_collections.secops.defender.plugins.module_utils._clock import SYSTEM
from ansible_collections.secops.defender.plugins.module_utils._downloads import Downloads
from ansible_collections.secops.defender.plugins.module_utils._specs import permission_for
from ansible_collections.secops.defender.plugins.module_utils._retries import (
    backoff_delay,
    parse_retry_after,
    rate_limit_delay,
)
from ansible_collections.secops.defender.plugins.module_utils._transport import (
    DEFAULT_MAX_RESPONSE_MB,
    BodyTooLarge,
    DeadlinePassed,
    TooDeep,
    loads_bounded,
    origin,
    read_body,
    url_problem,
)
from ansible_collections.secops.defender.plugins.module_utils._version import USER_AGENT

SAFE_METHODS = ("GET", "HEAD", "DELETE")
MAX_PAGE = 10000
# Paging stops with an error past this many pages (2 million items at the API's page size): a server that hands out
# a new @odata.nextLink for ever must not drain the tenant's hourly budget first.
MAX_PAGES = 200
# 5xx, connection failures and unreadable bodies are retried this many times at most; 429 is bounded by
# max_retry_wait instead.
MAX_TRANSIENT_ATTEMPTS = 5


class DefenderClient(Downloads):
    """The API: one request with its retry policy, paging, and (from Downloads) result links."""

    def __init__(self, api_url, token_provider, verify=True, timeout=30, max_retry_wait=3600, session=None,
                 clock=None, budget=None, pool_size=32, allow_http=False,
                 download_hosts=None, max_response_mb=DEFAULT_MAX_RESPONSE_MB, max_pages=MAX_PAGES):
        import requests  # the module checks it is installed before building a client
        self._requests = requests
        self.api_url = api_url.rstrip("/")
        self._origin = origin(self.api_url)
        self.tokens = token_provider
        self.verify = verify
        self.timeout = timeout
        self.max_retry_wait = max_retry_wait
        # Plain http to the API only for a lab that asked for it (allow_insecure_http); result links are https always,
        # because a SAS link is a credential too.
        self.allow_http = allow_http
        # Result links are followed only to these hosts (names or *.suffix): the cloud's storage, or a lab's.
        self.download_hosts = list(CLOUDS["commercial"]["download_hosts"] if download_hosts is None
                                   else download_hosts)
        self.max_response_bytes = int(max_response_mb * 1024 * 1024)
        self.max_pages = max_pages
        # The shared rate budget (_budget.RateBudget): every API call is paced through it before it is sent.
        self.budget = budget
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        # A fleet task sends from several threads; give them enough kept-alive connections.
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=pool_size)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        # Retries and deadlines run on real time (they are the network's); waiting for actions runs on `clock`,
        # which tests replace with a virtual one (_clock.py).
        self._sleep = time.sleep
        self._clock = time.monotonic
        self.clock = clock or SYSTEM
        self.warnings = []
        self.progress = []   # notes of a long wait (_waiter.py), returned as wait_progress
        self.waited = 0.0

    # --- one request, with the retry policy ---------------------------------------------------------
    def request(self, method, path, body=None, params=None, files=None, data=None, idempotent=None,
                expected=(200, 201, 204), give_up_on_429=None):
        """Send a request to the API and return the parsed JSON (None for an empty body).

        `idempotent` says whether a 5xx or a lost connection may be retried; it defaults to the method's safety.
        A 429 is retried within the budget (the API refused the call, so nothing happened), unless
        `give_up_on_429(response)` says otherwise: then its error is raised at once, with no pause of the budget
        (advanced hunting's running-time quota refills in minutes to hours, and waiting on it blindly only holds
        the task).
        """
        method = method.upper()
        idempotent = method in SAFE_METHODS if idempotent is None else idempotent
        url = path if path.startswith("http") else self.api_url + path
        shown_path = urlsplit(url).path
        self._check_api_url(url)
        started = self._clock()
        # Each API has its own limits (Learn, each page's "Limitations"); the budget maps them to one pool when
        # rate_pool is single.
        klass = rate_class(shown_path, method)
        attempt = 0
        refreshes = 0
        throttled = None
        while True:
            attempt += 1
            headers = {"Authorization": "Bearer " + self.tokens.token(), "Accept": "application/json"}
            try:
                response = self._paced_send(klass, started, throttled, method, url, params, body, files, data,
                                            headers)
            except DefenderTransportError as exc:
                if not (idempotent or exc.not_sent):
                    raise DefenderOutcomeUnknownError(
                        "The %s request's outcome is unknown: %s." % (method, exc.message.rstrip(".")),
                        method=method, path=shown_path, code=exc.code)
                if isinstance(exc, DefenderUnsafeResponseError):
                    raise
                if self._backed_off(attempt, started):
                    continue
                raise
            status = response.status_code
            if status in expected:
                try:
                    parsed = self._json(response, method, shown_path)
                    if _error_body(parsed) is None:
                        return parsed
                    raise self._error_in_success(response, parsed, method, shown_path, idempotent)
                except DefenderOutcomeUnknownError:
                    raise
                except DefenderTransportError as exc:
                    if not idempotent:
                        # The API accepted the request: the change was most likely made. The caller looks it up.
                        raise DefenderOutcomeUnknownError(
                            "The API accepted %s %s (%s) but its answer could not be read; the change was probably "
                            "made." % (method, shown_path, status), status=status, method=method, path=shown_path,
                            code="MalformedResponse", correlation_id=_correlation_id(response))
                    if isinstance(exc, DefenderUnsafeResponseError):
                        raise
                    if self._backed_off(attempt, started):
                        continue
                    exc.message += " (%d attempts)" % attempt
                    raise exc
            # A 401 gets a fresh token, twice at most: the first refresh may pick up a token another task cached
            # that has been revoked as well; the second then signs in.
            if status == 401 and refreshes < 2:
                refreshes += 1
                if self.tokens.refresh(rejected=headers["Authorization"][len("Bearer "):]):
                    continue
            if status == 429 and give_up_on_429 is not None and give_up_on_429(response):
                raise self._error(response, method, shown_path)
            if status == 429:
                delay = rate_limit_delay(parse_retry_after(response.headers.get("Retry-After")), attempt)
                if self.budget is not None:
                    # Every process on this controller holds back until then, not just this request; but never
                    # longer than this task's own bound, so one hostile Retry-After cannot stop the controller.
                    self.budget.pause(klass, delay, self.max_retry_wait)
                    throttled = self._error(response, method, shown_path)
                    # Resent only when this task may wait that long: else the bounded pause ends at once and the
                    # call would be sent again and again while the budget's windows have room.
                    if self._budget_allows(started, delay):
                        continue
                    raise self._error(response, method, shown_path)
                if self._budget_allows(started, delay):
                    self._wait(delay)
                    continue
            elif status >= 500:
                if idempotent:
                    if self._backed_off(attempt, started):
                        continue
                else:
                    raise self._error(response, method, shown_path, unknown=True)
            raise self._error(response, method, shown_path)

    def _paced_send(self, klass, started, throttled, *args):
        """Take a slot from the shared rate budget (waiting for one if need be), then send."""
        if self.budget is None:
            return self._send(*args)
        before = self._clock()
        try:
            ticket = self.budget.reserve(klass, max(0.0, self.max_retry_wait - (before - started)), self.timeout)
        except DefenderRateLimitError as exc:
            if throttled is not None:  # keep what the API said with its 429, for support
                exc.status, exc.correlation_id = throttled.status, throttled.correlation_id
                exc.method, exc.path, exc.api_message = throttled.method, throttled.path, throttled.api_message
            raise
        self.waited += self._clock() - before
        try:
            return self._send(*args)
        finally:
            self.budget.done(ticket)

    def _check_api_url(self, url):
        """The token goes to the API host only, judged as requests will connect (scheme, host and port)."""
        problem = url_problem(url)
        if problem is None and origin(url) != self._origin:
            problem = "it is not on the API host %s" % self.api_url
        if problem:
            raise DefenderUnsafeResponseError(
                "Refusing to send the API token to %s: %s." % (redact_url(url), problem), code="ForeignHost",
                hint="The API (or a proxy in between) returned a link off the API host. Check api_url and any "
                     "proxy (HTTPS_PROXY); the token was not sent.")

    def _send(self, method, url, params, body, files, data, headers):
        requests = self._requests
        kwargs = {"params": params, "headers": headers, "verify": self.verify, "timeout": self.timeout,
                  "allow_redirects": False, "stream": True}
        if files is not None:
            kwargs.update(files=files, data=data)
        elif body is not None:
            kwargs["data"] = json.dumps(body)
            headers["Content-Type"] = "application/json"
        deadline = self._clock() + self.timeout
        try:
            response = self.session.request(method, url, **kwargs)
            return self._read_whole(response, method, url, deadline)
        except (requests.exceptions.ConnectTimeout, requests.exceptions.SSLError) as exc:
            error = DefenderTransportError(describe_transport_error(exc, url), code=transport_code(exc))
            error.not_sent = True
            raise error
        except requests.exceptions.RequestException as exc:
            error = DefenderTransportError(describe_transport_error(exc, url), code=transport_code(exc))
            # A refused connection never carried the request; anything later may have.
            error.not_sent = "refused" in str(exc).lower()
            raise error

    def _read_whole(self, response, method, url, deadline):
        """Read the answer within max_response_mb and `timeout` seconds in all; requests' own timeout is per read."""
        shown = urlsplit(url).path
        try:
            # requests keeps a read body in _content; setting it lets .json()/.text work as without stream=True.
            response._content = read_body(response, self.max_response_bytes, deadline, self._clock)
            return response
        except BodyTooLarge:
            raise DefenderUnsafeResponseError(
                "The answer to %s %s is larger than max_response_mb (%d MiB); stopped reading it."
                % (method, shown, self.max_response_bytes // (1024 * 1024)), status=response.status_code,
                method=method, path=shown, code="ResponseTooLarge", correlation_id=_correlation_id(response),
                hint="Raise max_response_mb if the API really sends this much; otherwise a proxy or server is "
                     "misbehaving.")
        except DeadlinePassed as exc:
            raise DefenderTransportError(
                "The answer to %s %s did not arrive within timeout (%d s in all; %d bytes came)."
                % (method, shown, self.timeout, exc.read), status=response.status_code, method=method, path=shown,
                code="ResponseDeadline", correlation_id=_correlation_id(response))
        finally:
            if response._content is False:  # not read in full: drop the connection rather than reuse it
                response.close()

    def _error_in_success(self, response, parsed, method, path, idempotent):
        """A 2xx whose body is an error, not the entity: for a change, its outcome is unknown (the caller looks it
        up before sending again); for a read, a transient fault to retry."""
        error = _error_body(parsed)
        kwargs = dict(status=response.status_code, method=method, path=path, code=error.get("code"),
                      api_message=error.get("message"), correlation_id=error.get("target") or _correlation_id(response))
        if not idempotent:
            return DefenderOutcomeUnknownError(
                "The API answered %s %s with %d but an error in place of the result; whether the change was made is "
                "unknown." % (method, path, response.status_code), **kwargs)
        return DefenderTransportError("The API answered %s %s with %d but an error in place of the result."
                                      % (method, path, response.status_code), **kwargs)

    def _backed_off(self, attempt, started):
        """Wait before retrying a transient failure, if attempts and max_retry_wait allow one more; else False."""
        delay = backoff_delay(attempt)
        if attempt >= MAX_TRANSIENT_ATTEMPTS or not self._budget_allows(started, delay):
            return False
        self._wait(delay)
        return True

    def _budget_allows(self, started, delay):
        return (self._clock() - started) + delay <= self.max_retry_wait

    def _wait(self, delay):
        self.waited += delay
        self._sleep(delay)

    def _json(self, response, method, path):
        if response.status_code == 204 or not response.content:
            return None
        try:
            return loads_bounded(response.content)
        except TooDeep as exc:
            raise DefenderUnsafeResponseError(
                "The API answered %s %s with JSON nested too deep to read (%s)." % (method, path, exc),
                status=response.status_code, method=method, path=path, code="ResponseTooDeep",
                correlation_id=_correlation_id(response))
        except ValueError:
            raise DefenderTransportError("The API answered %s %s with a body that is not JSON."
                                         % (method, path), status=response.status_code, method=method, path=path,
                                         code="MalformedResponse",
                                         correlation_id=_correlation_id(response),
                                         hint="This is usually a proxy or a transient fault; run the task again.")

    def _error(self, response, method, path, unknown=False):
        code = api_message = correlation_id = None
        try:
            error = loads_bounded(response.content).get("error") or {}
            code, api_message, correlation_id = error.get("code"), error.get("message"), error.get("target")
        except (ValueError, AttributeError):
            api_message = (response.text or "")[:200] or None
        correlation_id = correlation_id or _correlation_id(response)
        status = response.status_code
        kwargs = dict(status=status, code=code, api_message=api_message, correlation_id=correlation_id,
                      method=method, path=path)
        if unknown:
            return DefenderOutcomeUnknownError("The API failed while handling %s %s; the change may or may not "
                                               "have been made." % (method, path), **kwargs)
        if status == 401:
            return DefenderAuthError("The API refused the access token.", hint="If you passed access_token, it "
                                     "may have expired; otherwise check the app registration.", **kwargs)
        if status == 403:
            permission = permission_for(path)
            need = (" The app needs the application permission %s, with admin consent." % permission
                    if permission else "")
            return DefenderForbiddenError("Access denied." + need, **kwargs)
        if status == 404:
            return DefenderNotFoundError("Not found.", **kwargs)
        if status == 429:
            return DefenderRateLimitError(
                "Still rate limited after waiting %d seconds (max_retry_wait)." % int(self.waited),
                hint="Lower the number of forks, or raise max_retry_wait.", **kwargs)
        refused = DefenderApiError("The API refused the request.", **kwargs)
        refused.generic = True  # no words of its own: a caller that knows what was asked may say it instead
        return refused

    # --- conveniences -------------------------------------------------------------------------------
    def get(self, path, params=None):
        return self.request("GET", path, params=params)

    def post(self, path, body, idempotent=False, expected=(200, 201)):
        return self.request("POST", path, body=body, idempotent=idempotent, expected=expected)

    def patch(self, path, body):
        """A PATCH sets fields to values: repeating it is safe, so it is retried like a read."""
        return self.request("PATCH", path, body=body, idempotent=True, expected=(200, 204))

    def delete(self, path):
        return self.request("DELETE", path, expected=(200, 204))

    def paged(self, path, params=None, page_size=MAX_PAGE, limit=None):
        """Every item of a collection, following @odata.nextLink or $skip.

        A server that loops is stopped with DefenderUnsafeResponseError (code PagingLoop) before it spends the
        rate budget: the same nextLink or the same page twice, a page of items already seen ($skip ignored), or
        more than max_pages pages."""
        params = dict(params or {})
        params["$top"] = min(page_size, limit or page_size)
        skip = int(params.pop("$skip", 0))
        seen_links, seen_pages, seen_ids, items = set(), set(), set(), []
        url, query = path, dict(params, **{"$skip": skip}) if skip else params
        for pages in itertools.count(1):
            try:
                page = self.get(url, params=query) or {}
            except DefenderNotFoundError:
                if urlsplit(url).path.rstrip("/").lower().endswith("/api/machines"):
                    return items  # the documented answer when there are no machines to list: none
                raise
            values = page.get("value") if isinstance(page, dict) else None
            if page and not isinstance(values, list):  # only an empty answer may lack the collection
                raise DefenderTransportError("The API answered GET %s with something that is not a collection."
                                             % urlsplit(url).path, method="GET", path=urlsplit(url).path)
            values = values or []
            self._check_page_is_new(path, values, seen_pages, seen_ids, pages)
            for item in values:
                key = item.get("id") if isinstance(item, dict) else None
                if key is not None:
                    if key in seen_ids:
                        continue
                    seen_ids.add(key)
                items.append(item)
                if limit and len(items) >= limit:
                    return items
            next_link = page.get("@odata.nextLink")
            if not next_link and len(values) < params["$top"]:
                return items
            if pages >= self.max_pages:
                raise self._paging_loop(path, "it is still going after %d pages (%d items)" % (pages, len(items)))
            if next_link:
                if next_link in seen_links:
                    raise self._paging_loop(path, "it returned the same @odata.nextLink twice")
                seen_links.add(next_link)
                url, query = next_link, None
            else:
                skip += len(values)
                url, query = path, dict(params, **{"$skip": skip})
        return items  # pragma: no cover - the loop returns or raises

    def _check_page_is_new(self, path, values, seen_pages, seen_ids, pages):
        """Raise when a page repeats one already read, or brings no item that was not seen before."""
        fingerprint = hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode("utf-8")).hexdigest()
        if values and fingerprint in seen_pages:
            raise self._paging_loop(path, "page %d repeats an earlier page" % pages)
        seen_pages.add(fingerprint)
        keys = [item.get("id") for item in values if isinstance(item, dict) and item.get("id") is not None]
        if pages > 1 and keys and len(keys) == len(values) and all(key in seen_ids for key in keys):
            raise self._paging_loop(path, "page %d holds only items already read ($skip or the link does not "
                                          "advance)" % pages)

    def _paging_loop(self, path, why):
        shown = urlsplit(path).path
        return DefenderUnsafeResponseError(
            "Stopped paging GET %s: %s." % (shown, why), method="GET", path=shown, code="PagingLoop",
            hint="The API (or a proxy) is not paging as documented; nothing more was requested. Narrow the query "
                 "(filter, limit) or report it with the correlation id of a recent call.")

    def add_rate_budget(self, result):
        """Put what this client saw of the shared rate budget into a module's result (nothing without a budget)."""
        if self.budget is not None:
            result["rate_budget"] = self.budget.report()
        return result


def _error_body(parsed):
    """The error of an answer that is {"error": {...}} and nothing of an entity, else None."""
    if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict) and "id" not in parsed \
            and "value" not in parsed:
        return parsed["error"]
    return None


def _correlation_id(response):
    headers = response.headers
    return headers.get("request-id") or headers.get("x-ms-correlation-id") or headers.get("x-ms-request-id")
