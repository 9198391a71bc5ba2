# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: the module base class, the shared auth/connection options and their
environment fallbacks, and the one place where errors become fail_json."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import os
import tempfile
import traceback

from ansible.module_utils.basic import AnsibleFallbackNotFound, AnsibleModule, missing_required_lib

from ansible_collections.secops.defender.plugins.module_utils._auth import (
    AUTH_METHODS,
    MsalHttpClient,
    TokenProvider,
    make_cache,
    select_credential,
)
from ansible_collections.secops.defender.plugins.module_utils._budget import RateBudget, budget_key, parse_limits
from ansible_collections.secops.defender.plugins.module_utils._cloud import (
    CLOUDS,
    cloud_from_azure_environment,
    endpoints,
    insecure_urls,
)
from ansible_collections.secops.defender.plugins.module_utils._errors import (
    DefenderActionError,
    DefenderError,
    DefenderInputError,
)
from ansible_collections.secops.defender.plugins.module_utils._fleet import run_action
from ansible_collections.secops.defender.plugins.module_utils._locks import SubmitLocks
from ansible_collections.secops.defender.plugins.module_utils._machines import target_list
from ansible_collections.secops.defender.plugins.module_utils._token_cache import default_cache_dir

try:
    import requests
    HAS_REQUESTS = requests.__version__ is not None
    REQUESTS_IMPORT_ERROR = None
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

# Only look for msal here: importing it costs time, and a cached token doesn't need it.
HAS_MSAL = importlib.util.find_spec("msal") is not None


def nonempty_env_fallback(*names):
    """env_fallback, except that a variable set to an empty string counts as unset: AWX injects every field of a
    credential type, the ones left blank as "" too, and "" must not hide the next name or fail a choice."""
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    raise AnsibleFallbackNotFound


def _env(*names):
    return (nonempty_env_fallback, list(names))


# Task args first, then DEFENDER_*, then azure-identity's names, then what AWX's Azure credential injects.
AUTH_ARGSPEC = dict(
    tenant_id=dict(type="str", fallback=_env("DEFENDER_TENANT_ID", "AZURE_TENANT_ID", "AZURE_TENANT")),
    client_id=dict(type="str", fallback=_env("DEFENDER_CLIENT_ID", "AZURE_CLIENT_ID")),
    client_secret=dict(type="str", no_log=True,
                       fallback=_env("DEFENDER_CLIENT_SECRET", "AZURE_CLIENT_SECRET", "AZURE_SECRET")),
    certificate_path=dict(type="path", fallback=_env("DEFENDER_CLIENT_CERTIFICATE_PATH",
                                                     "AZURE_CLIENT_CERTIFICATE_PATH")),
    certificate_password=dict(type="str", no_log=True,
                              fallback=_env("DEFENDER_CLIENT_CERTIFICATE_PASSWORD",
                                            "AZURE_CLIENT_CERTIFICATE_PASSWORD")),
    access_token=dict(type="str", no_log=True, fallback=_env("DEFENDER_ACCESS_TOKEN")),
    auth_method=dict(type="str", choices=list(AUTH_METHODS), fallback=_env("DEFENDER_AUTH_METHOD")),
    managed_identity_client_id=dict(type="str", fallback=_env("DEFENDER_MANAGED_IDENTITY_CLIENT_ID")),
    cloud=dict(type="str", choices=sorted(CLOUDS), fallback=_env("DEFENDER_CLOUD")),
    api_url=dict(type="str", fallback=_env("DEFENDER_API_URL")),
    authority_url=dict(type="str", fallback=_env("DEFENDER_AUTHORITY_URL")),
    scope=dict(type="str", fallback=_env("DEFENDER_SCOPE")),
    allow_insecure_http=dict(type="bool", fallback=_env("DEFENDER_ALLOW_INSECURE_HTTP")),
    validate_certs=dict(type="bool", fallback=_env("DEFENDER_VALIDATE_CERTS")),
    ca_path=dict(type="path", fallback=_env("DEFENDER_CA_PATH")),
    timeout=dict(type="int", fallback=_env("DEFENDER_TIMEOUT")),
    max_retry_wait=dict(type="int", fallback=_env("DEFENDER_MAX_RETRY_WAIT")),
    token_cache=dict(type="bool", fallback=_env("DEFENDER_TOKEN_CACHE")),
    token_cache_dir=dict(type="path", fallback=_env("DEFENDER_TOKEN_CACHE_DIR")),
    rate_budget=dict(type="bool", fallback=_env("DEFENDER_RATE_BUDGET")),
    rate_limits=dict(type="dict", fallback=_env("DEFENDER_RATE_LIMITS")),
    download_hosts=dict(type="list", elements="str", fallback=_env("DEFENDER_DOWNLOAD_HOSTS")),
    max_response_mb=dict(type="int", fallback=_env("DEFENDER_MAX_RESPONSE_MB")),
)

# Defaults live here rather than in the argspec, so that an env fallback is consulted before a default applies.
AUTH_DEFAULTS = dict(auth_method="auto", cloud="commercial", allow_insecure_http=False, validate_certs=True,
                     timeout=30, max_retry_wait=3600, token_cache=True, rate_budget=True, max_response_mb=64)

WAIT_ARGSPEC = dict(
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=900),
    poll_interval=dict(type="int", default=10),
)


# What every machine-action module takes beside its own options, for one device or many.
FLEET_ARGSPEC = dict(
    concurrency=dict(type="int", default=10),
    fail_on_device_error=dict(type="bool", default=True),
    on_active_action=dict(type="str", choices=["fail", "wait"], default="fail"),
)
# For actions that are not repeated when an equal one is pending, running or succeeded.
DEDUPE_ARGSPEC = dict(
    force=dict(type="bool", default=False),
    dedupe_lookback_days=dict(type="int", default=30),
)


def check_ranges(params):
    """Waits, polls and counts are checked before anything is sent."""
    for name, low, high in RANGES:
        value = params.get(name)
        if value is not None and not low <= value <= high:
            raise DefenderInputError("%s must be between %d and %d, not %s." % (name, low, high, value))
    if params.get("wait") and params.get("poll_interval") and params.get("wait_timeout") \
            and params["poll_interval"] > params["wait_timeout"]:
        raise DefenderInputError("poll_interval (%s) must not be longer than wait_timeout (%s)."
                                 % (params["poll_interval"], params["wait_timeout"]))


# (option, lowest, highest) for every number a task can give; checked before anything is sent.
RANGES = (("wait_timeout", 1, 7 * 86400), ("poll_interval", 1, 3600), ("concurrency", 1, 64),
          ("dedupe_lookback_days", 1, 365), ("timeout", 1, 600), ("max_retry_wait", 0, 86400),
          ("limit", 1, 100000), ("max_sessions", 1, 50), ("max_response_mb", 1, 4096),
          ("adopt_window", 0, 30 * 86400))


def resolve_connection(args):
    """The connection options for what is not an AnsibleModule (the EDA source): `args` first, then each option's
    environment variables, typed and checked by the same argspec a module uses, so that DEFENDER_TIMEOUT=30 is an int
    and DEFENDER_ALLOW_INSECURE_HTTP=false is false there too."""
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
    given = dict((k, v) for k, v in (args or {}).items() if k in AUTH_ARGSPEC and v is not None)
    result = ArgumentSpecValidator(AUTH_ARGSPEC).validate(given)
    if result.error_messages:
        raise DefenderInputError("The connection options are not valid: %s" % "; ".join(result.error_messages))
    return result.validated_parameters


def state_dir(params):
    """Where the token cache, the rate budget and the submit locks live (one place, shared by all tasks)."""
    return params.get("token_cache_dir") or default_cache_dir()


def state_dir_problem(path):
    """Why `path` cannot hold the local state (token cache, rate budget, submit locks), or None: created if need
    be, then a file is made and removed in it, so an unwritable, read-only or full folder shows before anything is
    sent."""
    try:
        os.makedirs(path, 0o700, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".probe-")
        try:
            os.write(fd, b"0")
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def state_dir_error(path, problem):
    return DefenderInputError(
        "The local state folder %s (the token cache, the rate budget and the submit locks) cannot be used: %s."
        % (path, problem), code="LocalState",
        hint="Set token_cache_dir (or DEFENDER_TOKEN_CACHE_DIR) to a folder this user can write. To run without "
             "local state, set token_cache=false and rate_budget=false (submit locks are then off too).")


def check_state_dir(path):
    problem = state_dir_problem(path)
    if problem:
        raise state_dir_error(path, problem)
    return path


def auth_options(params):
    # "" is unset here too: plugins read their options through ansible's config, which keeps an empty variable.
    options = dict((k, None if params.get(k) == "" else params.get(k)) for k in AUTH_ARGSPEC)
    if not options.get("cloud"):  # after the task and DEFENDER_CLOUD: what AWX's Azure credential injects
        options["cloud"] = cloud_from_azure_environment(os.environ.get("AZURE_CLOUD_ENVIRONMENT"))
    for key, value in AUTH_DEFAULTS.items():
        if options.get(key) is None:
            options[key] = value
    return options


def build_client(params):
    """A DefenderClient for these (already validated) module parameters."""
    import requests
    from ansible_collections.secops.defender.plugins.module_utils._client import DefenderClient

    options = auth_options(params)
    check_ranges(options)
    urls = endpoints(options["cloud"], options["api_url"], options["authority_url"], options["scope"],
                     options["download_hosts"])
    insecure = insecure_urls(urls, os.environ)
    if insecure and not options["allow_insecure_http"]:
        raise DefenderInputError(
            "Refusing plain http for %s: the token or the credential would cross the network in clear text. Use "
            "https, or set allow_insecure_http=true for a lab." % ", ".join(insecure))
    verify = (options["ca_path"] or True) if options["validate_certs"] else False
    session = requests.Session()
    credential = select_credential(options, urls)
    # A managed identity signs in at the host's own identity endpoint, not at the authority, and sends no secret.
    authority = None if credential.method == "managed_identity" else urls["authority_url"]
    http_client = MsalHttpClient(session, verify, options["timeout"], max_wait=min(120, options["max_retry_wait"]),
                                 authority_url=authority, max_response_mb=options["max_response_mb"])
    if options["token_cache"] or options["rate_budget"]:
        check_state_dir(state_dir(options))
    tokens = TokenProvider(credential, http_client, make_cache(options["token_cache"], options["token_cache_dir"]))
    budget = None
    if options["rate_budget"]:
        budget = RateBudget(state_dir(options), scope_key(options, urls), parse_limits(options["rate_limits"]))
    client = DefenderClient(urls["api_url"], tokens, verify=verify, timeout=options["timeout"],
                            max_retry_wait=options["max_retry_wait"], session=session, budget=budget,
                            allow_http=options["allow_insecure_http"], download_hosts=urls["download_hosts"],
                            max_response_mb=options["max_response_mb"])
    if insecure:
        client.warnings.append("allow_insecure_http is on and %s is plain http: tokens and secrets cross the "
                               "network in clear text. Use this against a lab only." % ", ".join(insecure))
    return client


def scope_key(options, urls):
    """Tenant, app and API host: what the API's rate limits and the submit locks are counted by."""
    return budget_key(options.get("tenant_id"), options.get("client_id") or options.get("managed_identity_client_id"),
                      urls["api_url"])


class DefenderModule(AnsibleModule):
    """AnsibleModule with the shared options, a lazily built client, and DefenderError -> fail_json."""

    def __init__(self, argument_spec, **kwargs):
        spec = dict(AUTH_ARGSPEC)
        spec.update(argument_spec)
        super(DefenderModule, self).__init__(argument_spec=spec, **kwargs)
        if not HAS_REQUESTS:
            self.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
        if not HAS_MSAL and not self.params.get("access_token"):
            self.fail_json(msg=missing_required_lib("msal"))
        self._client = None

    @property
    def client(self):
        if self._client is None:
            self._client = build_client(self.params)
        return self._client

    def action_result(self, spec, options, **service_kwargs):
        """Run one machine action (an ActionSpec and its checked options) on the task's device or devices and
        return the module result."""
        return run_action(self.client, spec, options, **self.action_kwargs(**service_kwargs))

    def action_kwargs(self, **extra):
        """The fleet engine's keyword arguments from the task's options (run() has range-checked them)."""
        params = self.params
        targets = target_list(params.get("machine_id"), params.get("machine_name"), params.get("machines"))
        urls = endpoints(auth_options(params)["cloud"], params.get("api_url"))
        kwargs = dict(targets=targets, single=not params.get("machines"), check_mode=self.check_mode,
                      wait=params["wait"], wait_timeout=params["wait_timeout"], poll_interval=params["poll_interval"],
                      force=params.get("force") or False, on_active_action=params["on_active_action"],
                      concurrency=params["concurrency"], dedupe_lookback_days=params.get("dedupe_lookback_days") or 30,
                      fail_on_device_error=params["fail_on_device_error"], locks=self._locks(urls))
        kwargs.update(extra)
        return kwargs

    def _locks(self, urls):
        """The per-device submit locks in the state folder; without a usable folder, none, when the task asked to
        run without local state (token_cache and rate_budget off), with a warning."""
        options = auth_options(self.params)
        folder = state_dir(self.params)
        problem = state_dir_problem(folder)
        if problem is None:
            return SubmitLocks(folder, scope_key(self.params, urls))
        if options["token_cache"] or options["rate_budget"]:
            raise state_dir_error(folder, problem)
        self.warn("The local state folder %s cannot be used (%s), so this task runs without submit locks: tasks "
                  "running at once on the same devices are not kept from submitting the same action twice."
                  % (folder, problem))
        return None

    def run(self, service):
        """Call `service(module)`, which returns the result dict; turn every DefenderError into fail_json.

        The shared numbers are range-checked and the client is built (URLs, credential) first: nothing is sent
        before the task's options have passed."""
        try:
            check_ranges(self.params)
            if self._client is None:
                self._client = build_client(self.params)
            result = service(self)
        except DefenderError as exc:
            self._warn_from_client()
            extra = {"error": exc.to_dict()}
            if isinstance(exc, DefenderActionError):
                extra.update(exc.result)
                if exc.result.get("error"):
                    extra["error"] = exc.result["error"]
            self.fail_json(msg=str(exc), **extra)
        except Exception as exc:  # a bug: fail cleanly, with the trace for -vvv, and say it is one
            self._warn_from_client()
            broken = self._state_dir_failure(exc)
            if broken is not None:  # the state folder broke mid-task (full, made read-only): not a bug
                self.fail_json(msg=str(broken), error=broken.to_dict())
            self.fail_json(msg="secops.defender hit an unexpected %s: %s. This is a bug; please report it with the "
                               "output of -vvv." % (type(exc).__name__, str(exc)[:300]),
                           exception=traceback.format_exc())
        self._warn_from_client()
        self.exit_json(**result)

    def _state_dir_failure(self, exc):
        """For an OSError on a file in the local state folder, the error that names the folder; else None."""
        filename = getattr(exc, "filename", None) if isinstance(exc, (IOError, OSError)) else None
        folder = state_dir(self.params)
        if not filename or not os.path.realpath(str(filename)).startswith(os.path.realpath(folder)):
            return None
        return state_dir_error(folder, exc.strerror or str(exc))

    def _warn_from_client(self):
        if self._client is not None:
            for warning in self._client.warnings:
                self.warn(warning)
