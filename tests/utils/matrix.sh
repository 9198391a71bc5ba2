#!/usr/bin/env bash
# The support matrix: each ansible-core in its own pinned virtual environment (.venvs/ansible-<version>, from
# tests/matrix/ansible-<version>.txt), on the Python it supports.
#   matrix.sh venv VERSION            create or refresh that environment
#   matrix.sh run VERSION STEP...     run steps in it: sanity, units, integration
# Each version gets its own layout of the collection, so nothing one version's ansible-test writes is seen by another.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

# ansible-core version -> the Python it runs on here (2.20 and newer need 3.12+ on the controller).
python_for() {
  case "$1" in
    2.16) echo 3.11 ;;
    2.20) echo 3.12 ;;
    2.21) echo 3.13 ;;
    *) echo "no Python known for ansible-core $1" >&2; exit 2 ;;
  esac
}

# python3.X from PATH, or from pyenv when PATH has only the default one.
find_python() {
  local minor=$1 candidate
  if command -v "python$minor" >/dev/null 2>&1 && "python$minor" -c '' 2>/dev/null; then
    command -v "python$minor"; return
  fi
  if command -v pyenv >/dev/null 2>&1; then
    for candidate in "$(pyenv root)"/versions/"$minor".*/bin/"python$minor"; do
      [ -x "$candidate" ] && { echo "$candidate"; return; }
    done
  fi
  echo "python$minor not found (install it, or pyenv install $minor)" >&2
  exit 2
}

venv_of() { echo "$root/.venvs/ansible-$1"; }

make_venv() {
  local version=$1 venv reqs stamp
  venv=$(venv_of "$version")
  reqs="$root/tests/matrix/ansible-$version.txt"
  stamp="$venv/.installed"
  if [ -e "$stamp" ] && [ "$stamp" -nt "$reqs" ] && [ "$stamp" -nt "$root/tests/matrix/units.txt" ]; then
    return
  fi
  rm -rf "$venv"
  "$(find_python "$(python_for "$version")")" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$reqs"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
    -e "$root/tests/mde_emulator"
  touch "$stamp"
}

run_steps() {
  local version=$1 venv python coll
  shift
  make_venv "$version"
  venv=$(venv_of "$version")
  python=$(python_for "$version")
  # The main .venv stays on PATH behind it for the tools that are not ansible-core's (ansible-rulebook).
  export PATH="$venv/bin:$root/.venv/bin:$PATH"
  coll=$(SECOPS_BUILD_DIR="${TMPDIR:-/tmp}/secops-defender-ansible-$version" bash "$root/tests/utils/layout.sh")
  bash "$root/tests/utils/seed_get_pip.sh"
  for step in "$@"; do
    printf '\n--- ansible-core %s on Python %s: %s (%s) ---\n' "$(python -c 'import ansible.release as r; print(r.__version__)')" \
      "$python" "$step" "$(date +%T)"
    case "$step" in
      sanity) (cd "$coll" && ansible-test sanity --requirements --python "$python" --color no) ;;
      units) (cd "$coll" && ansible-test units --python "$python" --color no) ;;
      integration) ANSIBLE_TEST_PYTHON="$python" bash "$root/tests/utils/integration.sh" "$coll" ;;
      *) echo "unknown step $step" >&2; exit 2 ;;
    esac
  done
}

case "${1:-}" in
  venv) make_venv "$2" ;;
  run) shift; run_steps "$@" ;;
  *) echo "usage: $0 venv VERSION | run VERSION STEP..." >&2; exit 2 ;;
esac
