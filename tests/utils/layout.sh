#!/usr/bin/env bash
# Lay the collection into $SECOPS_BUILD_DIR/ansible_collections/secops/defender, as ansible-test needs it.
# Only what git tracks or would track (new, not ignored) is copied, so .venv/ and test output stay out.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# Outside the checkout: inside it, ansible-test would ask git, which ignores the copy.
build=${SECOPS_BUILD_DIR:-${TMPDIR:-/tmp}/secops-defender-build}
dest="$build/ansible_collections/secops/defender"
rm -rf "$dest"
mkdir -p "$dest"
cd "$root"
git ls-files -co --exclude-standard | while IFS= read -r f; do [ -e "$f" ] && printf '%s\n' "$f"; done \
  | tar -cf - -T - | tar -xf - -C "$dest"
echo "$dest"
