#!/usr/bin/env bash
# What a Galaxy / AAP reviewer and an AWX admin would try, on the collection as built:
#  1. ansible-galaxy collection build, then galaxy-importer on the tarball: 0 errors and 0 warnings, and the EDA
#     event source listed and documented (meta/extensions.yml, its DOCUMENTATION and EXAMPLES);
#  2. ansible-builder create on docs/awx/execution-environment.yml, and introspect on the installed collection
#     (its Python requirements reach the EE);
#  3. the incident_response playbook through ansible-runner, the way AWX runs a job, against the emulator.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work="${TMPDIR:-/tmp}/secops-defender-ecosystem"
rm -rf "$work"
mkdir -p "$work/dist" "$work/collections"
coll=$(SECOPS_BUILD_DIR="$work/layout" bash "$root/tests/utils/layout.sh")

(cd "$coll" && ansible-galaxy collection build --force --output-path "$work/dist" >/dev/null)
tarball=$(ls "$work"/dist/secops-defender-*.tar.gz)
echo "built $(basename "$tarball") ($(du -k "$tarball" | cut -f1) KiB)"

# 1. galaxy-importer, as Galaxy runs it, minus ansible-test (it wants a container; make test runs sanity itself).
cat > "$work/galaxy-importer.cfg" <<'CFG'
[galaxy-importer]
RUN_ANSIBLE_TEST = False
RUN_ANSIBLE_LINT = True
OFFLINE_ANSIBLE_LINT = True
CFG
# It writes importer_result.json (what Galaxy stores and shows) into its working folder.
(cd "$work" && GALAXY_IMPORTER_CONFIG="$work/galaxy-importer.cfg" python -m galaxy_importer.main "$tarball" \
  >"$work/importer.log" 2>&1) || { cat "$work/importer.log"; echo "galaxy-importer failed"; exit 1; }
mkdir -p "$work/unpacked" && tar -xzf "$tarball" -C "$work/unpacked"
python "$root/tests/utils/check_importer.py" "$work/unpacked" "$work/importer.log" "$work/importer_result.json" \
  || { echo "galaxy-importer: see $work/importer.log"; exit 1; }

# 2. The execution environment.
ANSIBLE_COLLECTIONS_PATH="$work/collections" ansible-galaxy collection install --force -p "$work/collections" "$tarball" >/dev/null
(cd "$root/docs/awx" && ansible-builder create --file execution-environment.yml --context "$work/ee" \
  --output-filename Containerfile >/dev/null)
grep -q "ansible-galaxy" "$work/ee/Containerfile"
grep -q "secops.defender" "$work/ee/_build/requirements.yml"
ansible-builder introspect --sanitize "$work/collections" >"$work/introspect.yml"
# Each requirement of requirements.txt reaches the EE as declared, floor and all.
declared=$(sed -e 's/#.*//' -e 's/ *$//' "$root/requirements.txt" | grep -E '^[A-Za-z0-9]')
while IFS= read -r requirement; do
  if ! grep -qxF -- "- '$requirement  # from collection secops.defender'" "$work/introspect.yml"; then
    cat "$work/introspect.yml"
    echo "the collection's Python requirement $requirement does not reach the EE"
    exit 1
  fi
done <<<"$declared"
echo "ansible-builder: create wrote $work/ee/Containerfile; introspect finds $(echo "$declared" | paste -sd' ')"

# 3. A job as AWX runs it.
python "$root/tests/utils/awx_job.py" "$work/collections" "$work/awx"
