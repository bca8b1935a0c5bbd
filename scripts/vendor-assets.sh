#!/usr/bin/env bash
# Copy the browser assets of the live map into web/static/vendor/ from the npm
# registry, with a PROVENANCE.md that records where each file came from.
#
# Why vendored and committed: people keep the map open for hours at a
# courthouse or on call, often on bad networks, and a request to a CDN both
# fails offline and tells a third party who is watching. The page must load
# everything from the app's own host, and a fresh clone must work without npm.
# Run this only to change a version; commit what it writes.
#
# Usage: scripts/vendor-assets.sh        (needs node + npm and the npm registry)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/web/static/vendor"
# counties-10m.json is skipped above this size (phones on courthouse Wi-Fi);
# the map then shows state outlines only.
COUNTIES_MAX_BYTES=$((1500 * 1024))

# Exact versions: a bump is a deliberate, reviewed change (see PROVENANCE.md).
PACKAGES=(
  leaflet@1.9.4
  leaflet.markercluster@1.5.3
  leaflet.heat@0.2.0
  topojson-client@3.1.0
  us-atlas@3.0.1
  # Passkey sign-in for team members (web/members/): the UMD bundle only.
  @simplewebauthn/browser@14.0.0
)

# Only the files the page loads (plus each package's licence). Source maps and
# unminified builds are left out on purpose: nothing requests them.
files_for() {
  case "$1" in
    leaflet)
      echo LICENSE dist/leaflet.js dist/leaflet.css \
        dist/images/layers.png dist/images/layers-2x.png \
        dist/images/marker-icon.png dist/images/marker-icon-2x.png dist/images/marker-shadow.png
      ;;
    leaflet.markercluster)
      echo MIT-LICENCE.txt dist/leaflet.markercluster.js dist/MarkerCluster.css dist/MarkerCluster.Default.css
      ;;
    leaflet.heat) echo LICENSE dist/leaflet-heat.js ;;
    topojson-client) echo LICENSE dist/topojson-client.min.js ;;
    us-atlas) echo LICENSE states-10m.json counties-10m.json ;;
    @simplewebauthn/browser) echo LICENSE.md dist/bundle/index.umd.min.js ;;
    *) echo "no file list for $1" >&2; return 1 ;;
  esac
}

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
printf '{"name":"courtwatch-vendor","private":true}\n' >package.json
# --ignore-scripts: nothing from the registry runs on this machine.
npm install --save-exact --ignore-scripts --no-audit --no-fund --loglevel=error "${PACKAGES[@]}"

rm -rf "$DEST"
mkdir -p "$DEST"

PROV="$DEST/PROVENANCE.md"
{
  echo "# Vendored browser assets"
  echo
  echo "Written by \`scripts/vendor-assets.sh\` (do not edit by hand): the files below were"
  echo "copied unchanged from the npm registry packages named, installed with"
  echo "\`npm install --save-exact --ignore-scripts\`. *integrity* is the registry's hash of"
  echo "the package tarball (from package-lock.json); *sha256* is of each copied file."
  echo
} >"$PROV"

for spec in "${PACKAGES[@]}"; do
  name="${spec%@*}"
  version="${spec##*@}"
  src="$WORK/node_modules/$name"
  installed="$(node -p "require('$src/package.json').version")"
  if [ "$installed" != "$version" ]; then
    echo "$name: wanted $version, npm installed $installed" >&2
    exit 1
  fi
  # leaflet.heat's package.json has no "license" field; its LICENSE file is
  # the BSD 2-clause text (and it bundles simpleheat, same author, same terms).
  license="$(node -p "require('$src/package.json').license || 'BSD-2-Clause (LICENSE file; package.json names none)'")"
  integrity="$(node -p "require('$WORK/package-lock.json').packages['node_modules/$name'].integrity")"
  # A scoped name (@scope/pkg) becomes one folder: scope-pkg-<version>.
  folder="$(echo "${name#@}" | tr / -)-$version"
  out="$DEST/$folder"
  # The registry's tarball address (the lock file may omit "resolved").
  tarball="https://registry.npmjs.org/$name/-/${name##*/}-$version.tgz"
  {
    echo "## $name $version"
    echo
    echo "- license: $license"
    echo "- source: $tarball"
    echo "- integrity: \`$integrity\`"
    echo
    echo "| file | bytes | sha256 |"
    echo "| --- | ---: | --- |"
  } >>"$PROV"
  for f in $(files_for "$name"); do
    if [ "$name" = us-atlas ] && [ "$f" = counties-10m.json ] &&
      [ "$(stat -c %s "$src/$f")" -gt "$COUNTIES_MAX_BYTES" ]; then
      echo "skipping $name/$f: larger than $COUNTIES_MAX_BYTES bytes" >&2
      continue
    fi
    mkdir -p "$(dirname "$out/$f")"
    cp "$src/$f" "$out/$f"
    size="$(stat -c %s "$out/$f")"
    sum="$(sha256sum "$out/$f" | cut -d' ' -f1)"
    echo "| \`$folder/$f\` | $size | \`$sum\` |" >>"$PROV"
  done
  echo >>"$PROV"
done

echo "vendored into $DEST:"
du -sh "$DEST"/*/ | sed "s|$DEST/||"
