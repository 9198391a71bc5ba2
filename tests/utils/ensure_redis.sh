#!/usr/bin/env bash
# The coordination store's tests run against a real redis-server that they start themselves (never a fake, never
# the system's instance): install Debian's package when it is missing.
set -euo pipefail
command -v redis-server >/dev/null 2>&1 && exit 0
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
# Two suites started at once (a fresh clone beside another) would both run apt and one would fail on its locks:
# the second waits for the first here, then finds redis-server installed. Any other apt user is waited for by
# DPkg::Lock::Timeout.
# One fixed path for every suite on the machine (each has a TMPDIR of its own).
if exec 9>/tmp/secops-ensure-redis.lock; then
  flock 9
fi
command -v redis-server >/dev/null 2>&1 && exit 0
echo "redis-server is missing: installing Debian's redis-server package"
apt=(apt-get -o DPkg::Lock::Timeout=600 -y --no-install-recommends)
[ -z "$sudo" ] || apt=("$sudo" "${apt[@]}")
"${apt[@]}" install redis-server >/dev/null \
  || { "${apt[@]}" update >/dev/null && "${apt[@]}" install redis-server >/dev/null; }
# The package may start a system instance; the tests use their own on a free port.
command -v redis-server >/dev/null
