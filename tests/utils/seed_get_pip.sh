#!/usr/bin/env bash
# Seed ansible-test's cache with the offline pip bootstrap, only when nothing is there yet, so a machine with
# internet access behaves exactly as upstream does.
set -euo pipefail
cache="$HOME/.ansible/test/cache"
target="$cache/get_pip_24_2.py"
if [ ! -e "$target" ]; then
  mkdir -p "$cache"
  cp "$(dirname "$0")/get_pip_offline.py" "$target"
fi
