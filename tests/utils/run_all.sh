#!/usr/bin/env bash
# The whole test pipeline behind `make test`. Pass step names to run only some:
#   emulator   the emulator's own pytest suite
#   lint       ansible-lint --profile production
#   sanity     ansible-test sanity on ansible-core 2.19 (.venv)
#   units      ansible-test units on 2.19, with coverage
#   matrix     sanity and units on 2.16, 2.20 and 2.21, each in its own pinned venv (.venvs/); then the floor row:
#              units and the certificate sign-in target on 2.16 with the minimum of each of requirements.txt
#   integration  ansible-test integration against the emulator on the oldest and newest (2.16 and 2.21)
#   ecosystem  galaxy-importer, ansible-builder and an ansible-runner job, on the built collection
#   docs       the docs site with antsibull-docs
#   drift      today's documented API variant; soak: a short fault soak
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export PATH="$root/.venv/bin:$PATH"
export ANSIBLE_FORCE_COLOR=0
steps=${*:-"emulator lint sanity units matrix integration ecosystem docs drift soak"}
coll=$(bash tests/utils/layout.sh)
bash tests/utils/seed_get_pip.sh
bash tests/utils/ensure_redis.sh

step() { printf '\n=== %s (%s) ===\n' "$1" "$(date +%T)"; }

for s in $steps; do
  case "$s" in
    emulator)
      step "emulator test suite"
      (cd "$root/tests" && python -m pytest -q -p no:cacheprovider mde_emulator/tests)
      ;;
    lint)
      step "ansible-lint --profile production"
      bash "$root/tests/utils/lint.sh"
      ;;
    sanity)
      step "ansible-test sanity (ansible-core 2.19)"
      (cd "$coll" && ansible-test sanity --requirements --python 3.11 --color no)
      ;;
    units)
      step "ansible-test units (ansible-core 2.19, with coverage)"
      (cd "$coll" && ansible-test units --python 3.11 --color no --coverage \
        && ansible-test coverage report --color no --include 'plugins/*' --show-missing)
      ;;
    matrix)
      for version in 2.16 2.20 2.21; do
        step "ansible-test sanity and units on ansible-core $version"
        bash "$root/tests/utils/matrix.sh" run "$version" sanity units
      done
      step "the floor row: units and certificate sign-in with the declared minimum of each runtime requirement"
      bash "$root/tests/utils/matrix.sh" run floor units integration:auth_certificate
      ;;
    integration)
      for version in 2.16 2.21; do
        step "ansible-test integration against the emulator on ansible-core $version"
        bash "$root/tests/utils/matrix.sh" run "$version" integration
      done
      ;;
    ecosystem)
      step "galaxy-importer, ansible-builder, ansible-runner"
      bash "$root/tests/utils/ecosystem.sh"
      ;;
    docs)
      step "docs site (antsibull-docs)"
      bash "$root/tests/utils/docs.sh"
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
