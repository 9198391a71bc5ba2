#!/usr/bin/env bash
# Build the HTML docs site with antsibull-docs: module, plugin and role pages plus the guides in docs/docsite.
# Sphinx runs with warnings as errors, except those caused by having no internet (intersphinx cannot fetch
# docs.ansible.com's inventory). The site lands in docs/build/html (or $1).
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
  --project secops.defender --title secops.defender --copyright "secops.defender contributors" secops.defender >/dev/null
log="$build/sphinx.log"
# sphinx-init's own build.sh: antsibull-docs writes the pages into rst/, then sphinx-build -W --keep-going.
"$site/build.sh" >"$build/build.out" 2>"$log" || true
# Warnings fail the build, except the ones that come from having no internet: intersphinx cannot fetch
# docs.ansible.com's inventory, so the labels and variables that only it defines stay unresolved.
offline=(-e "intersphinx" -e "failed to reach any of the inventories" -e "^$"
  -e "undefined label: 'common_return_values'" -e "undefined label: 'ansible_configuration_settings'"
  -e "'envvar' reference target not found: ANSIBLE_")
if grep -v "${offline[@]}" "$log" | grep -q . || [ ! -s "$site/build/html/index.html" ]; then
  cat "$log"
  echo "docs: the build failed or sphinx reported the warnings above"
  exit 1
fi
rm -rf "$out"
mkdir -p "$(dirname "$out")"
cp -r "$site/build/html" "$out"
echo "docs: $(find "$out" -name '*.html' | wc -l) pages in $out"
