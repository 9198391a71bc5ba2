#!/usr/bin/env bash
# The whole test pipeline behind `make test`: emulator suite, sanity, units (with coverage), integration.
# Pass step names to run only some: emulator sanity units integration drift soak.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export PATH="$root/.venv/bin:$PATH"
export ANSIBLE_FORCE_COLOR=0
steps=${*:-"emulator sanity units integration drift soak"}
coll=$(bash tests/utils/layout.sh)
bash tests/utils/seed_get_pip.sh

step() { printf '\n=== %s (%s) ===\n' "$1" "$(date +%T)"; }

for s in $steps; do
  case "$s" in
    emulator)
      step "emulator test suite"
      (cd "$root/tests" && python -m pytest -q -p no:cacheprovider mde_emulator/tests)
      ;;
    sanity)
      step "ansible-test sanity"
      (cd "$coll" && ansible-test sanity --requirements --python 3.11 --color no)
      ;;
    units)
      step "ansible-test units"
      (cd "$coll" && ansible-test units --python 3.11 --color no --coverage \
        && ansible-test coverage report --color no --include 'plugins/*' --show-missing)
      ;;
    integration)
      step "ansible-test integration against the emulator"
      bash "$root/tests/utils/integration.sh" "$coll"
      ;;
    drift)
      step "drift matrix, today's variant (make drift runs them all)"
      python "$root/tests/utils/drift.py" --variants rotating
      ;;
    soak)
      step "fault soak, short (make soak runs 1000 devices)"
      # 160 devices: one failure is 0.6%, so the bound is 3% here (make soak holds 1000 devices to 2%).
      python "$root/tests/utils/soak.py" --devices 150 --sessions 10 --max-failed-percent 3
      ;;
    *) echo "unknown step $s"; exit 2 ;;
  esac
done
step "done"
