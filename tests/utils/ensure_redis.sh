#!/usr/bin/env bash
# The coordination store's tests run against a real redis-server that they start themselves (never a fake, never
# the system's instance): install Debian's package when it is missing.
set -euo pipefail
command -v redis-server >/dev/null 2>&1 && exit 0
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
echo "redis-server is missing: installing Debian's redis-server package"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y --no-install-recommends redis-server >/dev/null \
  || { $sudo apt-get update >/dev/null && $sudo apt-get install -y --no-install-recommends redis-server >/dev/null; }
# The package may start a system instance; the tests use their own on a free port.
command -v redis-server >/dev/null
