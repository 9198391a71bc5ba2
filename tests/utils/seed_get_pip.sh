#!/usr/bin/env bash
# Seed ansible-test's cache with the offline pip bootstrap, only where nothing is there yet, so a machine with
# internet access behaves exactly as upstream does. Each ansible-core pins its own pip and names the script after
# it: 2.16 wants 23.1.2, 2.19 wants 24.2, 2.20 and 2.21 want 25.2.
set -euo pipefail
cache="$HOME/.ansible/test/cache"
mkdir -p "$cache"
for pip_version in 23_1_2 24_2 25_2; do
  target="$cache/get_pip_$pip_version.py"
  [ -e "$target" ] || cp "$(dirname "$0")/get_pip_offline.py" "$target"
done
