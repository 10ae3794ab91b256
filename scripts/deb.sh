#!/usr/bin/env bash
# Builds the Debian package build/geoblock_VERSION_ARCH.deb from debian/ and checks it with lintian
# (`make deb`; VERSION is the Makefile's). dpkg-buildpackage builds in a copy of the tree under
# build/deb/, because it cleans the tree it builds (`make clean` would remove build/) and writes
# its output beside it; so the tree gets no artefacts. build/deb/ keeps all of the output (the
# package, its -dbgsym package, .buildinfo, .changes); build/ gets the package too.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:?usage: deb.sh VERSION}

changelog=$(dpkg-parsechangelog -l debian/changelog -S Version)
if [[ $changelog != "$version" ]]; then
	echo "deb: debian/changelog's top entry is $changelog, the Makefile's VERSION $version:" \
		"add an entry for $version at the top of debian/changelog" >&2
	exit 1
fi
arch=$(dpkg --print-architecture)
out=build/deb
src=$out/geoblock-$version
deb=geoblock_${version}_$arch.deb
rm -rf "$out" "build/$deb"
mkdir -p "$src"
tar -c --exclude=./.git --exclude=./build --exclude=./build-san --exclude=./build-fuzz . |
	tar -x -C "$src"

# The package is a build of its own, in a clean environment: nothing of the make that ran this
# (SANITIZE=1 from `make test SANITIZE=1`, CC, V, MAKEFLAGS) reaches debian/rules.
env=(PATH="$PATH" HOME="${HOME:-/root}")
[[ -n ${DEB_BUILD_OPTIONS:-} ]] && env+=(DEB_BUILD_OPTIONS="$DEB_BUILD_OPTIONS")
(cd "$src" && env -i "${env[@]}" dpkg-buildpackage -us -uc -b -Jauto)
rm -rf "$src"
changes=$out/geoblock_${version}_$arch.changes
# The .changes names the package, its -dbgsym package and the .buildinfo: lintian checks them all.
echo "lintian $changes"
lintian --fail-on error,warning "$changes"
ln -f "$out/$deb" "build/$deb"
echo "built build/$deb"
