#!/usr/bin/env bash
# Packages the Splunk app: scripts/package-app.sh VERSION
# writes dist/fluxhunt-VERSION.tar.gz (or into $FLUXHUNT_DIST when set, as
# the tests do) holding the folder fluxhunt/ (the
# contents of splunk_app/ with the version set in default/app.conf). Only the
# app's own files go in: no tests, no local/ settings, no editor or OS litter,
# files 0644 and folders 0755, owned by nobody in particular, so the package
# is the same on every machine (AppInspect and Splunk Cloud check these).
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:-$(cat VERSION 2>/dev/null || echo 0.1.0)}"
if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]]; then
  echo "package-app: version '$version' is not semantic (MAJOR.MINOR.PATCH)" >&2
  exit 2
fi
src=splunk_app
[ -f "$src/default/app.conf" ] || { echo "package-app: $src/default/app.conf missing" >&2; exit 2; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
app="$stage/fluxhunt"
mkdir -p "$app"
# Copy what belongs in the app; leave out Go tests, local settings and litter.
(cd "$src" && find . -type f \
    ! -name '*.go' ! -path './local/*' ! -path './testdata/*' \
    ! -name '.*' ! -name '*~' ! -name '*.swp' ! -name '*.pyc' ! -path '*/__pycache__/*' \
    -print0) | while IFS= read -r -d '' f; do
  mkdir -p "$app/$(dirname "$f")"
  cp "$src/$f" "$app/$f"
done
# Set the version in [id] and [launcher] of app.conf and in app.manifest.
sed -i -E "s/^version[[:space:]]*=.*/version = $version/" "$app/default/app.conf"
if [ -f "$app/app.manifest" ]; then
  sed -i -E "s/(\"version\":[[:space:]]*)\"[^\"]*\"/\1\"$version\"/" "$app/app.manifest"
fi
find "$app" -type d -exec chmod 0755 {} +
find "$app" -type f -exec chmod 0644 {} +

dist="${FLUXHUNT_DIST:-dist}"
mkdir -p "$dist"
out="$dist/fluxhunt-$version.tar.gz"
# Reproducible: sorted names, fixed owner and time.
mtime="@$(git log -1 --format=%ct 2>/dev/null || echo 0)"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="$mtime" \
    -C "$stage" -cf - fluxhunt | gzip -n -9 > "$out"
echo "package-app: wrote $out ($(tar -tzf "$out" | wc -l) entries)"
