# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: typed errors. Each carries what a responder and Microsoft support need."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from urllib.parse import urlsplit


def redact_url(url):
    """Scheme, host and path only: the query of a result link is a SAS credential."""
    parts = urlsplit(url)
    return "%s://%s%s" % (parts.scheme, parts.netloc, parts.path)


def transport_code(exc):
    """A code for a failure without an HTTP status, so every failure a playbook sees has a status or a code."""
    return {"ConnectTimeout": "ConnectTimeout", "ReadTimeout": "ReadTimeout", "SSLError": "TLSError"}.get(
        type(exc).__name__, "ConnectionFailed")


def describe_transport_error(exc, url):
    """A requests exception as a sentence, naming the host but never the query or the exception's own text
    (which can hold the full URL)."""
    kind = type(exc).__name__
    text = {"ConnectTimeout": "the connection timed out", "ReadTimeout": "no answer before the timeout",
            "SSLError": "TLS verification failed (set ca_path to the CA that signed the server's certificate)",
            }.get(kind, "the connection failed (%s)" % kind)
    return "%s talking to %s" % (text, redact_url(url))


class DefenderError(Exception):
    """Base error. `str()` is the full, human message; `to_dict()` is what modules return as `error`."""

    def __init__(self, message, status=None, code=None, api_message=None, correlation_id=None,
                 method=None, path=None, hint=None):
        super(DefenderError, self).__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.api_message = api_message
        self.correlation_id = correlation_id
        self.method = method
        self.path = path
        self.hint = hint

    def __str__(self):
        parts = [self.message]
        if self.method and self.path:
            detail = "%s %s" % (self.method, self.path)
            if self.status:
                detail += " answered %s" % self.status
            if self.code:
                detail += " %s" % self.code
            if self.api_message and self.api_message not in self.message:
                detail += ": %s" % self.api_message
            parts.append("(" + detail + ")")
        if self.correlation_id:
            parts.append("[correlation id %s]" % self.correlation_id)
        if self.hint:
            parts.append(self.hint)
        return " ".join(parts)

    def to_dict(self):
        return {
            "status": self.status,
            "code": self.code,
            "message": self.api_message or self.message,
            "correlation_id": self.correlation_id,
            "method": self.method,
            "path": self.path,
        }


class DefenderAuthError(DefenderError):
    """Sign-in failed, or the API refused the token."""


class DefenderApiError(DefenderError):
    """The API answered with an error status."""

    # True when the message says only that the API refused (no better words were known where it was made).
    generic = False


class DefenderNotFoundError(DefenderApiError):
    pass


class DefenderForbiddenError(DefenderApiError):
    pass


class DefenderRateLimitError(DefenderApiError):
    pass


class DefenderTransportError(DefenderError):
    """No usable answer: connection refused, TLS failure, timeout, or a body that is not JSON."""

    # True when the request certainly never reached the server (so even a POST may be sent again).
    not_sent = False


class DefenderUnsafeResponseError(DefenderTransportError):
    """The API, a proxy or the network asked for something the client refuses, and nothing unsafe was done: the
    token or the secret to another host, a redirect at sign-in, evidence from a host that is not storage, an answer
    past its bounds (size, nesting, pages). Never retried: the same answer would be refused again."""

    def __init__(self, message, **kwargs):
        kwargs.setdefault("code", "UnsafeResponse")
        super(DefenderUnsafeResponseError, self).__init__(message, **kwargs)


class DefenderIntegrityError(DefenderTransportError):
    """A download arrived but is not what was sent: short, a checksum mismatch, or it does not decode."""

    def __init__(self, message, **kwargs):
        kwargs.setdefault("code", "CorruptDownload")
        super(DefenderIntegrityError, self).__init__(message, **kwargs)


class DefenderOutcomeUnknownError(DefenderTransportError):
    """A request that changes state may or may not have been carried out (timeout, 5xx, dropped connection).

    It is never simply sent again; the caller looks the result up first."""


class DefenderResponseError(DefenderError):
    """The API answered something that is not of the documented shape (an id that is not a GUID, a machine id
    that is not 40 hex): it is never put in a path or a URL. `field` names what was wrong."""

    def __init__(self, message, field=None, **kwargs):
        kwargs.setdefault("code", "UnexpectedResponse")
        super(DefenderResponseError, self).__init__(message, **kwargs)
        self.field = field


class DefenderInputError(DefenderError):
    """The task's own arguments are wrong; nothing was sent."""


class DefenderActionError(DefenderError):
    """A machine action reached a final status other than the one asked for, or a wait ran out."""

    def __init__(self, message, result=None, **kwargs):
        super(DefenderActionError, self).__init__(message, **kwargs)
        # What the module would have returned (machine_action, commands, files...), so a failed task
        # still hands the playbook everything that is known.
        self.result = result or {}


class DefenderActiveActionError(DefenderApiError):
    """The device already has an action of this kind pending or running (ActiveRequestAlreadyExists, or the older
    "Action is already in progress"). `running` is that action when it could be found."""

    running = None


def is_active_action_refusal(exc):
    """Whether an API error is the refusal of a second action of a kind that is already pending on the device."""
    if not isinstance(exc, DefenderApiError) or exc.status not in (400, 409):
        return False
    return exc.code == "ActiveRequestAlreadyExists" or "already in progress" in (exc.api_message or "").lower()
