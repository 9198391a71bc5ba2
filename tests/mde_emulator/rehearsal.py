"""What a rehearsal needs beside the running emulator: the connection as environment variables (`--env-file`).

The variables are the ones the secops.defender collection reads for its connection options (DEFENDER_*), so every
entry point of it (modules, the shipped playbooks, the inventory plugin, the lookup, the event source) connects to
the emulator with nothing else set. One `NAME=value` a line: bash reads it with `set -a; . FILE; set +a`, and
docker or podman with `--env-file FILE`. Values are quoted only where a shell needs it; docker's `--env-file` takes
every value as written, so such a value would keep its quotes there, and `write_env_file` says which."""

import os
import shlex
import tempfile
from urllib.parse import urlsplit


class RehearsalError(ValueError):
    """The seed has no app that this can be written for."""


def choose_app(apps, wanted=None):
    """The app to connect as, of `apps` (the emulator's `app_credentials()`, or its info's `apps`): `wanted` (a
    client id or a name), else the first app of the seed with a client secret."""
    with_secret = [app for app in apps if app.get("client_secret")]
    if wanted:
        for app in apps:
            if wanted in (app["client_id"], app.get("name")):
                if not app.get("client_secret"):
                    raise RehearsalError("app %s has no client secret to connect with" % wanted)
                return app
        raise RehearsalError("no app %s in the seed (apps: %s)" % (
            wanted, ", ".join(a.get("name") or a["client_id"] for a in apps)))
    if not with_secret:
        raise RehearsalError("the seed has no app with a client secret to connect with")
    return with_secret[0]


def connection_env(info, app, state_dir=None):
    """[(name, value)]: the collection's environment variables for connecting to this emulator as `app`."""
    env = [
        ("DEFENDER_TENANT_ID", info["tenant_id"]),
        ("DEFENDER_CLIENT_ID", app["client_id"]),
        ("DEFENDER_CLIENT_SECRET", app["client_secret"]),
        # A secret, even with a certificate or a token for a real tenant in the environment.
        ("DEFENDER_AUTH_METHOD", "client_secret"),
        ("DEFENDER_API_URL", info["api_url"]),
        ("DEFENDER_AUTHORITY_URL", info["authority_url"]),
        ("DEFENDER_CA_PATH", info["ca_path"]),
        # Result links point at the emulator's storage host, not Microsoft's.
        ("DEFENDER_DOWNLOAD_HOSTS", urlsplit(info["blob_url"]).hostname),
    ]
    if state_dir:
        # The rehearsal's tokens and rate budget stay beside the emulator's state, out of the user's own cache.
        env.append(("DEFENDER_TOKEN_CACHE_DIR", os.path.join(os.path.abspath(state_dir), "token-cache")))
    return env


def env_file_text(info, app, state_dir=None, path="FILE"):
    """The env file's text, and the names whose value had to be quoted for a shell."""
    quoted = []
    where = shlex.quote(path)
    lines = [
        "# Connection to the mde-emulator at %s as app %s (%s)," % (
            info["api_url"], app.get("name") or app["client_id"], app["client_id"]),
        "# in the variables secops.defender reads. It holds the app's client secret: keep it private.",
        "#   bash:           set -a; . %s; set +a   (exported to ansible-playbook, ansible-rulebook...)" % where,
        "#   docker, podman: --env-file %s   (with --network host, and the CA file at the same path)" % where,
    ]
    for name, value in connection_env(info, app, state_dir):
        text = shlex.quote(str(value))
        if text != str(value):
            quoted.append(name)
        lines.append("%s=%s" % (name, text))
    return "\n".join(lines) + "\n", quoted


def write_env_file(path, info, app, state_dir=None):
    """Write the env file whole or not at all, readable by its owner only; return the names quoted for a shell."""
    text, quoted = env_file_text(info, app, state_dir, path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return quoted
