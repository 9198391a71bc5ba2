#!/usr/bin/env bash
# The whole test pipeline behind `make test`. Pass step names to run only some:
#   emulator   the emulator's own pytest suite
#   lint       ansible-lint --profile production
#   sanity     ansible-test sanity on ansible-core 2.19 (.venv)
#   units      ansible-test units on 2.19, with coverage
#   matrix     sanity and units on 2.16, 2.20 and 2.21, each in its own pinned venv (.venvs/); then the floor row:
#              units and the certificate sign-in target on 2.16 with the minimum of each of requirements.txt
#   integration  ansible-test integration against the emulator on the oldest and newest (2.16 and 2.21)
#   examples   every EXAMPLES block and README/guide YAML snippet, run against a fresh emulator (tests/examples)
#   ecosystem  galaxy-importer, ansible-builder and an ansible-runner job, on the built collection
#   docs       the docs site with antsibull-docs
#   drift      today's documented API variant; soak: a short fault soak
# With no step named, the steps run in two lanes at once (SECOPS_TEST_LANES=1 runs them one after another): the
# checks (emulator suite, lint, sanity, units, matrix) and the plays (integration, examples, ecosystem, docs, drift,
# soak). Each lane mostly waits on one core (the emulator's clock, a play's tasks, one pytest process), so two lanes
# take about half the time on two cores. Each lane has its own TMPDIR, so its layouts, builds and emulators are its
# own; the venvs they share are built once, under a lock (matrix.sh). Every line is prefixed with its lane.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export PATH="$root/.venv/bin:$PATH"
export ANSIBLE_FORCE_COLOR=0
steps=${*:-"emulator lint sanity units matrix integration examples ecosystem docs drift soak"}
bash tests/utils/seed_get_pip.sh
bash tests/utils/ensure_redis.sh

step() { printf '\n=== %s (%s) ===\n' "$1" "$(date +%T)"; }

run_step() {
  case "$1" in
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
  examples)
    step "examples: every EXAMPLES block and README/guide snippet against the emulator (ansible-core 2.19)"
    python "$root/tests/examples/run_examples.py" --collection "$coll"
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
  *) echo "unknown step $1"; exit 2 ;;
  esac
}

# A lane: its steps one after another, in a TMPDIR of its own, each line of output prefixed with the lane's name.
lane() {
  local name=$1
  shift
  mkdir -p "$lanes/$name"
  (
    set -euo pipefail
    export TMPDIR="$lanes/$name"
    current="layout"
    # Not `run_step || ...`: errexit would then be off inside the step, and a loop of versions would go on.
    trap 'rc=$?; [ "$rc" = 0 ] || echo "FAILED: step $current of lane $name (exit $rc, $(date +%T))"' EXIT
    coll=$(bash tests/utils/layout.sh)
    for current in "$@"; do
      run_step "$current"
    done
    echo "lane $name passed ($(date +%T))"
  ) 2>&1 | sed -u "s/^/[$name] /"
}

if [ $# -eq 0 ] && [ "${SECOPS_TEST_LANES:-2}" != 1 ]; then
  lanes=$(mktemp -d "${TMPDIR:-/tmp}/secops-defender-lanes.XXXXXX")
  step "two lanes: checks (emulator lint sanity units matrix) and plays (integration examples ecosystem docs drift soak)"
  lane checks emulator lint sanity units matrix &
  checks=$!
  lane plays integration examples ecosystem docs drift soak &
  plays=$!
  failed=""
  wait "$checks" || failed="$failed checks"
  wait "$plays" || failed="$failed plays"
  if [ -n "$failed" ]; then
    echo "failed lane(s):$failed (search the output for 'FAILED: step')"
    exit 1
  fi
  rm -rf "$lanes"
else
  coll=$(bash tests/utils/layout.sh)
  for s in $steps; do
    run_step "$s"
  done
fi
step "done"
