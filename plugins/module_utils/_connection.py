# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: the connection layer. Every entry point gets its client here.

The options come from wherever the entry point has them: a module's parameters (argspec, with the environment
fallbacks below), a controller plugin's get_option() (the PLUGIN doc fragment declares the same variables; a unit
test holds the two equal), or a rulebook's arguments. resolve_connection() types and checks the last two with the
modules' own argspec, so DEFENDER_TIMEOUT=30 is an int everywhere. build_client() makes the one DefenderClient, its
credential, token cache and rate budget; submit_locks() the per-device locks in the same state folder.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile

from ansible.module_utils.basic import AnsibleFallbackNotFound

from ansible_collections.secops.defender.plugins.module_utils._auth import (
    AUTH_METHODS,
    MsalHttpClient,
    TokenProvider,
    make_cache,
    select_credential,
)
from ansible_collections.secops.defender.plugins.module_utils._budget import RateBudget, budget_key, parse_limits
from ansible_collections.secops.defender.plugins.module_utils._coordination import RedisBudget
from ansible_collections.secops.defender.plugins.module_utils._cloud import (
    CLOUDS,
    cloud_from_azure_environment,
    endpoints,
    insecure_urls,
)
from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderInputError
from ansible_collections.secops.defender.plugins.module_utils._locks import SubmitLocks
from ansible_collections.secops.defender.plugins.module_utils._options import check_ranges
from ansible_collections.secops.defender.plugins.module_utils._token_cache import default_cache_dir


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
    coordination_url=dict(type="str", no_log=True, fallback=_env("DEFENDER_COORDINATION_URL")),
    coordination_ca_path=dict(type="path", fallback=_env("DEFENDER_COORDINATION_CA_PATH")),
)

# Defaults live here rather than in the argspec, so that an env fallback is consulted before a default applies.
AUTH_DEFAULTS = dict(auth_method="auto", cloud="commercial", allow_insecure_http=False, validate_certs=True,
                     timeout=30, max_retry_wait=3600, token_cache=True, rate_budget=True, max_response_mb=64)


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


def build_client(params, clock=None):
    """A DefenderClient for these (already validated) connection options; `clock` is how its waits pass time
    (_clock.py: tests give a virtual one)."""
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
        limits = parse_limits(options["rate_limits"])
        store = coordination_store(options)
        if store is not None:
            budget = RedisBudget(store, scope_key(options, urls), limits)
        else:
            budget = RateBudget(state_dir(options), scope_key(options, urls), limits)
    client = DefenderClient(urls["api_url"], tokens, verify=verify, timeout=options["timeout"],
                            max_retry_wait=options["max_retry_wait"], session=session, budget=budget,
                            allow_http=options["allow_insecure_http"], download_hosts=urls["download_hosts"],
                            max_response_mb=options["max_response_mb"], clock=clock)
    if insecure:
        client.warnings.append("allow_insecure_http is on and %s is plain http: tokens and secrets cross the "
                               "network in clear text. Use this against a lab only." % ", ".join(insecure))
    return client


def scope_key(options, urls):
    """Tenant, app and API host: what the API's rate limits and the submit locks are counted by."""
    return budget_key(options.get("tenant_id"), options.get("client_id") or options.get("managed_identity_client_id"),
                      urls["api_url"])


def connection_for(get_option):
    """The connection options of a controller plugin (inventory, lookup), resolved as a module's would be."""
    # "" is unset, as for the modules; then the modules' own argspec types what ansible's config handed over.
    given = dict((name, get_option(name)) for name in AUTH_ARGSPEC)
    return resolve_connection(dict((k, v) for k, v in given.items() if v != ""))


def client_for(get_option):
    """A DefenderClient from a controller plugin's options (inventory, lookup)."""
    return build_client(connection_for(get_option))


def coordination_store(options):
    """The shared store of coordination_url (checked by a round trip now, so that a store out of reach fails the
    task before anything is sent), or None without one."""
    if not options.get("coordination_url"):
        return None
    from ansible_collections.secops.defender.plugins.module_utils._coordination import store_for
    return store_for(options["coordination_url"], options.get("coordination_ca_path"), options["timeout"])


def submit_locks(params, api_url, warn):
    """The per-device submit locks: in the coordination store when there is one, else in the state folder.
    Without a usable folder: none, when the task asked to run without local state (token_cache and rate_budget
    off), with a warning through `warn`; else the LocalState error."""
    options = auth_options(params)
    store = coordination_store(options)
    if store is not None:
        from ansible_collections.secops.defender.plugins.module_utils._coordination import RedisLocks
        return RedisLocks(store, scope_key(params, {"api_url": api_url}))
    folder = state_dir(params)
    problem = state_dir_problem(folder)
    if problem is None:
        return SubmitLocks(folder, scope_key(params, {"api_url": api_url}))
    if options["token_cache"] or options["rate_budget"]:
        raise state_dir_error(folder, problem)
    warn("The local state folder %s cannot be used (%s), so this task runs without submit locks: tasks running at "
         "once on the same devices are not kept from submitting the same action twice." % (folder, problem))
    return None
