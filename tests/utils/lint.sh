#!/usr/bin/env bash
# ansible-lint --profile production (see .ansible-lint) on the collection as installed: laid out under
# ansible_collections/ so that secops.defender.* modules, roles and the action group resolve.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build="${TMPDIR:-/tmp}/secops-defender-lint"
coll=$(SECOPS_BUILD_DIR="$build" bash "$root/tests/utils/layout.sh")
cd "$coll"
ANSIBLE_COLLECTIONS_PATH="$build" ansible-lint --nocolor "$@"
