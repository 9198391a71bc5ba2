#!/usr/bin/env bash
# Build the HTML docs site with antsibull-docs: module, plugin and role pages plus the guides in docs/docsite.
# Sphinx runs with warnings as errors; the only warnings let through are intersphinx's, which needs the internet
# to fetch docs.ansible.com's inventory. The site lands in docs/build/html (or $1).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/docs/build/html}
build="${TMPDIR:-/tmp}/secops-defender-docs"
coll=$(SECOPS_BUILD_DIR="$build/collections" bash "$root/tests/utils/layout.sh")
export ANSIBLE_COLLECTIONS_PATH="$build/collections"
site="$build/site"
rm -rf "$site"
mkdir -p "$site"
chmod 755 "$site"

# The collection's own documentation must lint clean: extra docs, links.yml, and every plugin's markup.
antsibull-docs lint-collection-docs --plugin-docs --skip-rstcheck "$coll"

antsibull-docs sphinx-init --use-current --squash-hierarchy --fail-on-error --dest-dir "$site" \
  --project secops.defender --title secops.defender --copyright "secops.defender contributors" secops.defender
cd "$site"
mkdir -p temp-rst rst
antsibull-docs collection --use-current --squash-hierarchy --fail-on-error --dest-dir temp-rst secops.defender
rsync -a --delete temp-rst/ rst/ 2>/dev/null || { rm -rf rst && cp -r temp-rst rst; }
log="$build/sphinx.log"
set +e
sphinx-build -M html rst build -c . -W --keep-going -q 2>"$log"
rc=$?
set -e
# Warnings fail the build, except the ones that come from having no internet: intersphinx cannot fetch
# docs.ansible.com's inventory, so the labels and variables that only it defines stay unresolved.
offline=(-e "intersphinx" -e "failed to reach any of the inventories" -e "^$"
  -e "undefined label: 'common_return_values'" -e "undefined label: 'ansible_configuration_settings'"
  -e "'envvar' reference target not found: ANSIBLE_")
if grep -v "${offline[@]}" "$log" | grep -q .; then
  cat "$log"
  echo "docs: sphinx reported the warnings above"
  exit 1
fi
if [ "$rc" -ne 0 ] && ! grep -q "intersphinx\|inventories" "$log"; then
  cat "$log"; exit "$rc"
fi
rm -rf "$out"
mkdir -p "$(dirname "$out")"
cp -r build/html "$out"
echo "docs: $(find "$out" -name '*.html' | wc -l) pages in $out"
