# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Mirrors AUTH_ARGSPEC in plugins/module_utils/_module.py.
    DOCUMENTATION = r"""
options:
  tenant_id:
    description:
      - The Microsoft Entra ID (Azure AD) tenant that holds the app registration.
      - If not set, the environment variables E(DEFENDER_TENANT_ID), E(AZURE_TENANT_ID) and E(AZURE_TENANT)
        are tried in that order. E(AZURE_TENANT) is what the AWX and AAP Microsoft Azure Resource Manager
        credential injects.
    type: str
  client_id:
    description:
      - The application (client) id of the app registration.
      - If not set, E(DEFENDER_CLIENT_ID) and then E(AZURE_CLIENT_ID) are used.
    type: str
  client_secret:
    description:
      - A client secret of the app registration.
      - If not set, E(DEFENDER_CLIENT_SECRET), E(AZURE_CLIENT_SECRET) and E(AZURE_SECRET) are tried in that order.
      - Prefer the environment (an AWX credential injects it), because Ansible writes task arguments into the module's
        temporary payload on disk, which a killed run leaves behind.
    type: str
  certificate_path:
    description:
      - A PEM file that holds both the private key and the certificate registered on the app.
      - The certificate thumbprint is computed from the file.
      - If not set, E(DEFENDER_CLIENT_CERTIFICATE_PATH) and then E(AZURE_CLIENT_CERTIFICATE_PATH) are used.
    type: path
  certificate_password:
    description:
      - The password of the private key in O(certificate_path), if it is encrypted.
      - If not set, E(DEFENDER_CLIENT_CERTIFICATE_PASSWORD) and then E(AZURE_CLIENT_CERTIFICATE_PASSWORD) are used.
    type: str
  access_token:
    description:
      - A bearer token acquired elsewhere, for the Defender API audience.
      - It cannot be refreshed; when it expires, tasks fail with a clear message.
      - If not set, E(DEFENDER_ACCESS_TOKEN) is used.
    type: str
  auth_method:
    description:
      - How to sign in.
      - V(auto) uses O(access_token) if given, else O(certificate_path), else O(client_secret).
      - V(managed_identity) uses the managed identity of the host the task runs on (system-assigned, or
        user-assigned with O(managed_identity_client_id)).
      - If not set, E(DEFENDER_AUTH_METHOD) is used, and then V(auto).
    type: str
    choices: [auto, client_secret, certificate, access_token, managed_identity]
  managed_identity_client_id:
    description:
      - The client id of a user-assigned managed identity. Leave unset for the system-assigned identity.
      - If not set, E(DEFENDER_MANAGED_IDENTITY_CLIENT_ID) is used.
    type: str
  cloud:
    description:
      - Which Microsoft cloud the tenant lives in. It picks the API host, the sign-in host and the token scope.
      - V(commercial) uses U(https://api.security.microsoft.com) and U(https://login.microsoftonline.com).
      - V(gcc) uses U(https://api-gcc.securitycenter.microsoft.us) and U(https://login.microsoftonline.com).
      - V(gcc_high) and V(dod) use U(https://api-gov.securitycenter.microsoft.us) and
        U(https://login.microsoftonline.us).
      - If not set, E(DEFENDER_CLOUD) is used; then E(AZURE_CLOUD_ENVIRONMENT), as the Azure Resource Manager
        credential of AWX and AAP injects it (V(AzureCloud) is V(commercial), V(AzureUSGovernment) is V(gcc_high));
        and then V(commercial).
    type: str
    choices: [commercial, dod, gcc, gcc_high]
  api_url:
    description:
      - Overrides the API base of O(cloud), for example a regional host such as
        U(https://eu.api.security.microsoft.com), or an emulator.
      - If not set, E(DEFENDER_API_URL) is used.
    type: str
  authority_url:
    description:
      - Overrides the sign-in host of O(cloud). The tenant id is appended to it.
      - If not set, E(DEFENDER_AUTHORITY_URL) is used.
    type: str
  scope:
    description:
      - Overrides the token scope of O(cloud).
      - The commercial default, V(https://api.securitycenter.microsoft.com/.default), is right for both the
        current and the legacy API host. A token for another audience is refused with 403.
      - If not set, E(DEFENDER_SCOPE) is used.
    type: str
  allow_insecure_http:
    description:
      - Allow O(api_url), O(authority_url) and the managed identity endpoint to be plain C(http://) URLs, for a
        lab only. Without it, such a URL is refused before anything is sent, because the bearer token, the client
        secret or a result link would cross the network in clear text.
      - The local managed identity endpoints (C(169.254.169.254), C(localhost)) are always allowed.
      - When this is on and a URL is C(http://), every run warns.
      - If not set, E(DEFENDER_ALLOW_INSECURE_HTTP) is used, and then V(false).
    type: bool
  validate_certs:
    description:
      - Whether to verify TLS certificates. Only turn this off against a test system.
      - If not set, E(DEFENDER_VALIDATE_CERTS) is used, and then V(true).
    type: bool
  ca_path:
    description:
      - A CA bundle to verify the API and sign-in hosts with, instead of the system's.
      - It is applied to every request, so E(REQUESTS_CA_BUNDLE) cannot override it.
      - If not set, E(DEFENDER_CA_PATH) is used.
    type: path
  timeout:
    description:
      - Seconds one HTTP request to the API or to sign-in may take in all, from connecting to the last byte of
        the answer. An answer that is still arriving then (a body trickled a byte at a time) is cut off, and the
        request is retried like a timeout.
      - Result downloads are streamed to disk and bounded per read instead, since a large file takes longer.
      - If not set, E(DEFENDER_TIMEOUT) is used, and then V(30).
    type: int
  max_response_mb:
    description:
      - The largest answer, in MiB, read from the API or from sign-in. A larger one fails with the code
        C(ResponseTooLarge) once that much has arrived, rather than fill the controller's memory. Result downloads
        are streamed to disk and not bounded by this.
      - JSON nested deeper than 64 levels fails with C(ResponseTooDeep), and paging that repeats a page, does not
        advance, or passes 200 pages fails with C(PagingLoop), before the rate budget is spent on it.
      - If not set, E(DEFENDER_MAX_RESPONSE_MB) is used, and then V(64).
    type: int
  coordination_url:
    description:
      - A Redis that every controller running against this tenant can reach (V(redis://[:password@]host:port/db),
        or V(rediss://) for TLS). The rate budget's windows, its 429 pauses and the per-device submit locks with
        their journal then live there instead of in O(token_cache_dir), so AWX/AAP jobs in separate pods, job
        slices on several nodes and one job per EDA event share one budget and never submit the same action twice.
      - The store is checked before anything is sent; one that cannot be reached (refused, wrong password, TLS,
        timeout) fails the task with the code C(CoordinationStore), naming its host and port, never the password.
        There is no fall back to local files, which would break the promise.
      - Needs the C(redis) Python library (5.0.0 or later) where the modules run.
      - If not set, E(DEFENDER_COORDINATION_URL) is used.
    type: str
    version_added: 0.3.0
  coordination_ca_path:
    description:
      - A PEM bundle of CA certificates to verify a V(rediss://) O(coordination_url) with, instead of the system's.
      - If not set, E(DEFENDER_COORDINATION_CA_PATH) is used.
    type: path
    version_added: 0.3.0
  download_hosts:
    description:
      - The hosts that result links (live response results, the investigation package) may point to. Any other
        link is refused before a byte is read, with the code C(DownloadHostRefused), because whatever it served
        would be saved as the evidence.
      - Each item is a host name (V(localhost)) or V(*.suffix) for every name under suffix. Links must be
        C(https://).
      - The default is the storage of O(cloud), as Microsoft documents it. V(commercial) is
        V(*.blob.core.windows.net) and V(*.securitycenter.windows.com); V(gcc_high) and V(dod) are
        V(*.blob.core.usgovcloudapi.net) and V(*.securitycenter.windows.us); V(gcc) has both.
      - Set it for a lab or the emulator (whose storage is V(127.0.0.1)), or if the error names a Microsoft host
        that serves your tenant.
      - If not set, E(DEFENDER_DOWNLOAD_HOSTS) (names separated by commas) is used.
    type: list
    elements: str
  max_retry_wait:
    description:
      - The most seconds one API call may spend waiting for the tenant's rate budget (see O(rate_budget)), waiting
        out HTTP 429 (honouring C(Retry-After)) and retrying transient failures, before it fails.
      - When the budget is spent for longer than this (the hourly limit, typically), the call fails at once with
        a message that says when the budget refills. The default lets a fleet wait for the next hour's budget
        and finish rather than fail.
      - If not set, E(DEFENDER_MAX_RETRY_WAIT) is used, and then V(3600).
    type: int
  rate_budget:
    description:
      - Whether to pace every API call through the tenant's rate budget, shared by every task, fork and play on
        this controller that uses the same tenant, app and API host.
      - Calls wait for a free slot I(before) they are sent, so a fleet spreads its calls over the documented limits
        (100 calls a minute and 1500 an hour for most endpoints; 10 a minute for live response) instead of
        spending the hourly budget and then failing. A 429 seen by any task pauses all of them until its
        C(Retry-After).
      - The budget is a file next to the token cache, in O(token_cache_dir), under a lock.
      - If not set, E(DEFENDER_RATE_BUDGET) is used, and then V(true).
    type: bool
  rate_limits:
    description:
      - Override the documented limits the rate budget paces to, per endpoint class, as a dict of class to a list
        of C([calls, seconds]) windows. Classes are V(default) (most endpoints), V(runliveresponse),
        V(getpackageuri) and V(alertbatchupdate).
      - 'For example C({"default": [[50, 60], [750, 3600]]}) leaves half of the tenant''s budget to other tools.'
      - If not set, E(DEFENDER_RATE_LIMITS) (the same dict as JSON) is used, and then the documented limits.
    type: dict
  token_cache:
    description:
      - Whether to share access tokens between tasks through a per-user cache file, so that a play signs in once
        rather than once per task.
      - The file is C(tokens.json) in O(token_cache_dir), mode 0600 in a 0700 folder. It holds access tokens
        only, never secrets.
      - If not set, E(DEFENDER_TOKEN_CACHE) is used, and then V(true).
    type: bool
  token_cache_dir:
    description:
      - The folder of the token cache.
      - If not set, E(DEFENDER_TOKEN_CACHE_DIR) is used, and then C($XDG_CACHE_HOME/secops.defender) or
        C(~/.cache/secops.defender).
    type: path
requirements:
  - requests
  - msal (not needed with O(access_token))
notes:
  - All modules in this collection belong to the action group C(secops.defender.defender), so the connection
    options can be set once per play with C(module_defaults).
"""

    WAIT = r"""
options:
  wait:
    description:
      - Whether to wait until the action reaches a final status (V(Succeeded), V(Failed), V(TimeOut) or
        V(Cancelled)).
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait at most. The action goes on in Defender when the wait runs out.
    type: int
    default: 900
  poll_interval:
    description:
      - Seconds between two reads of the action while waiting.
    type: int
    default: 10
"""

    MACHINE = r"""
options:
  machines:
    description:
      - The devices to act on, in one task. Each item is a Defender machine id (40 hexadecimal characters) or a
        computer DNS name; a short name such as V(ws-fin-001) also matches V(ws-fin-001.<domain>).
      - Ids need no look-up; names are found with a few paged queries for the whole list. A name that matches no
        device, or several, fails that device only.
      - Equal actions for the whole list are found with one paged query, the rest are submitted concurrently
        within the tenant's rate budget, and the wait polls one list query for all of them.
      - The result has one row per device in RV(results); the task fails at the end if any device failed, unless
        O(fail_on_device_error=false).
      - Exactly one of O(machines), O(machine_id) and O(machine_name) is required.
    type: list
    elements: str
  machine_id:
    description:
      - The Defender machine id of one device, 40 hexadecimal characters. It is not looked up before the action
        is submitted; an unknown id fails with the API's 404.
    type: str
  machine_name:
    description:
      - The computer DNS name of one device, for example V(ws-fin-001.corp.example.com).
      - A short name such as V(ws-fin-001) also matches V(ws-fin-001.<domain>).
      - It must match exactly one machine; otherwise the task fails and lists what it found.
    type: str
  concurrency:
    description:
      - How many submissions (and result downloads) run at once. The rate budget paces them in any case.
    type: int
    default: 10
  fail_on_device_error:
    description:
      - With O(machines), whether the task fails at the end when any device failed. The other devices are acted
        on either way, and every row is returned.
    type: bool
    default: true
  on_active_action:
    description:
      - What to do when the API refuses the action because one of its kind is already pending on the device
        (C(ActiveRequestAlreadyExists), or the older "Action is already in progress").
      - V(fail) fails that device, naming the pending action.
      - V(wait) waits for it to end (within O(wait_timeout)) and then submits.
    type: str
    choices: [fail, wait]
    default: fail
"""

    DEDUPE = r"""
options:
  force:
    description:
      - Submit a new action even when an equal one is pending, running or succeeded.
    type: bool
    default: false
  dedupe_lookback_days:
    description:
      - How far back an equal action counts. An equal action created longer ago than this is not looked at, and
        a new one is submitted.
    type: int
    default: 30
"""

    # The same connection options for controller plugins (inventory, lookup), with their environment variables
    # declared the way the plugin configuration system reads them. tests/unit checks that every name and variable
    # here matches the modules' own (_connection.AUTH_ARGSPEC), so the two cannot drift apart.
    PLUGIN = r"""
options:
  tenant_id:
    description: The Microsoft Entra ID tenant that holds the app registration.
    type: str
    env: [{name: DEFENDER_TENANT_ID}, {name: AZURE_TENANT_ID}, {name: AZURE_TENANT}]
  client_id:
    description: The application (client) id of the app registration.
    type: str
    env: [{name: DEFENDER_CLIENT_ID}, {name: AZURE_CLIENT_ID}]
  client_secret:
    description: A client secret of the app registration.
    type: str
    env: [{name: DEFENDER_CLIENT_SECRET}, {name: AZURE_CLIENT_SECRET}, {name: AZURE_SECRET}]
  certificate_path:
    description: A PEM file with the private key and the certificate registered on the app.
    type: path
    env: [{name: DEFENDER_CLIENT_CERTIFICATE_PATH}, {name: AZURE_CLIENT_CERTIFICATE_PATH}]
  certificate_password:
    description: The password of the private key in O(certificate_path), if it is encrypted.
    type: str
    env: [{name: DEFENDER_CLIENT_CERTIFICATE_PASSWORD}, {name: AZURE_CLIENT_CERTIFICATE_PASSWORD}]
  access_token:
    description: A bearer token acquired elsewhere, for the Defender API audience.
    type: str
    env: [{name: DEFENDER_ACCESS_TOKEN}]
  auth_method:
    description: How to sign in; V(auto) when not set (see the modules' O(auth_method)).
    type: str
    choices: [auto, client_secret, certificate, access_token, managed_identity]
    env: [{name: DEFENDER_AUTH_METHOD}]
  managed_identity_client_id:
    description: The client id of a user-assigned managed identity.
    type: str
    env: [{name: DEFENDER_MANAGED_IDENTITY_CLIENT_ID}]
  cloud:
    description: Which Microsoft cloud the tenant lives in; when not set, E(AZURE_CLOUD_ENVIRONMENT) as AWX injects
      it (V(AzureUSGovernment) is V(gcc_high)), and then V(commercial).
    type: str
    choices: [commercial, dod, gcc, gcc_high]
    env: [{name: DEFENDER_CLOUD}]
  api_url:
    description: Overrides the API base of O(cloud), for a regional host or an emulator.
    type: str
    env: [{name: DEFENDER_API_URL}]
  authority_url:
    description: Overrides the sign-in host of O(cloud).
    type: str
    env: [{name: DEFENDER_AUTHORITY_URL}]
  scope:
    description: Overrides the token scope of O(cloud).
    type: str
    env: [{name: DEFENDER_SCOPE}]
  allow_insecure_http:
    description: Allow plain C(http://) API and sign-in URLs, for a lab only (the modules' O(allow_insecure_http)).
    type: bool
    env: [{name: DEFENDER_ALLOW_INSECURE_HTTP}]
  validate_certs:
    description: Whether to validate TLS certificates; V(true) when not set.
    type: bool
    env: [{name: DEFENDER_VALIDATE_CERTS}]
  ca_path:
    description: A PEM bundle of CA certificates to trust instead of the system's.
    type: path
    env: [{name: DEFENDER_CA_PATH}]
  timeout:
    description: Seconds one HTTP request may take in all, answer included; 30 when not set.
    type: int
    env: [{name: DEFENDER_TIMEOUT}]
  max_response_mb:
    description: The largest answer read, in MiB; 64 when not set.
    type: int
    env: [{name: DEFENDER_MAX_RESPONSE_MB}]
  coordination_url:
    description: A Redis shared by every controller for the rate budget and the submit locks (see the modules).
    type: str
    version_added: 0.3.0
    env: [{name: DEFENDER_COORDINATION_URL}]
  coordination_ca_path:
    description: A PEM bundle of CA certificates for a V(rediss://) O(coordination_url).
    type: path
    version_added: 0.3.0
    env: [{name: DEFENDER_COORDINATION_CA_PATH}]
  download_hosts:
    description: The hosts result links may point to (names or V(*.suffix)); the storage of O(cloud) when not set.
    type: list
    elements: str
    env: [{name: DEFENDER_DOWNLOAD_HOSTS}]
  max_retry_wait:
    description: The most seconds one call may wait for the rate budget and retries; 3600 when not set.
    type: int
    env: [{name: DEFENDER_MAX_RETRY_WAIT}]
  token_cache:
    description: Whether to share access tokens with the modules through the per-user cache; V(true) when not set.
    type: bool
    env: [{name: DEFENDER_TOKEN_CACHE}]
  token_cache_dir:
    description: Where the token cache and the rate budget live.
    type: path
    env: [{name: DEFENDER_TOKEN_CACHE_DIR}]
  rate_budget:
    description: Whether to pace calls through the tenant's shared rate budget; V(true) when not set.
    type: bool
    env: [{name: DEFENDER_RATE_BUDGET}]
  rate_limits:
    description: Overrides of the documented limits, a dict (or its JSON text) as for the modules.
    type: raw
    env: [{name: DEFENDER_RATE_LIMITS}]
"""
