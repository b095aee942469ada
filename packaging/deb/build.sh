#!/usr/bin/env bash
# build.sh [BUILD] [OUTDIR] - pirec_VERSION_amd64.deb from BUILD's binaries and plugins
# (default .build/release; `make deb`). A plain dpkg-deb build of a staged tree, not
# dpkg-buildpackage: the binaries come from SwiftPM with a toolchain that is no Debian
# package, so there is no source package to describe; debian/-style maintainer scripts,
# conffiles, md5sums, shlibs dependencies and lintian are all still here.
#
# Self-contained: the Swift runtime libraries the binaries and plugins load (found from their
# NEEDED entries, recursively) are copied into /usr/lib/pirec/swift and every RUNPATH is made
# relative to $ORIGIN, so the package runs on a Debian 12 without a Swift toolchain.
# The version is what the built `pirec --version` prints; DEB_REVISION (default 1) follows it.
# DEB_COMPRESSION (default xz) is dpkg-deb's -Z: the tests use gzip, several times faster.
# LINTIAN=yes checks the package with lintian (errors and warnings fail; the tags that stay
# are explained in lintian-overrides, installed where lintian reads them).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-.build/release}
OUTDIR=${2:-.}
HERE=packaging/deb
SWIFT_RUNTIME=$(readlink -f "$(dirname "$(readlink -f "$(command -v swift)")")/../lib/swift/linux")

version=$("$BUILD/pirec" --version | awk '{print $1}')
[[ $version =~ ^[0-9][0-9A-Za-z.+~]*$ ]] || { echo "build.sh: odd version '$version' from $BUILD/pirec" >&2; exit 1; }
full=$version-${DEB_REVISION:-1}
# Who builds it: set DEB_MAINTAINER to your site's "Name <address>".
maintainer=${DEB_MAINTAINER:-pirec developers <pirec@example.org>}
work=$(mktemp -d /tmp/pirec-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/debian/pirec   # dpkg-shlibdeps looks for debian/control beside the tree

make -s install-files RELEASE="$BUILD" DESTDIR="$root" PREFIX=/usr SYSCONFDIR=/etc \
  UNITDIR=/lib/systemd/system >/dev/null
install -D -m 755 systemd/install-system.sh "$root/usr/lib/pirec/install-system.sh"
install -D -m 644 "$HERE/lintian-overrides" "$root/usr/share/lintian/overrides/pirec"
install -m 644 "$HERE/copyright" "$root/usr/share/doc/pirec/copyright"
for page in pirec.1 pirecd.8; do
  install -D -m 644 "$HERE/$page" "$root/usr/share/man/man${page##*.}/$page"
  gzip -9n "$root/usr/share/man/man${page##*.}/$page"
done
printf 'pirec (%s) bookworm; urgency=medium\n\n  * Built by make deb from the pirec source tree.\n\n -- %s  %s\n' \
  "$full" "$maintainer" "$(date -R -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")" \
  | gzip -9n > "$root/usr/share/doc/pirec/changelog.Debian.gz"

# The Swift runtime: every library an ELF file here needs that the toolchain holds.
swiftlib=$root/usr/lib/pirec/swift
install -d "$swiftlib"
elves() { find "$root" -type f \( -name '*.so' -o -perm -u+x \) -exec sh -c 'head -c4 "$1" | grep -q ELF' sh {} \; -print; }
while :; do
  added=0
  while read -r lib; do
    if [[ -e $SWIFT_RUNTIME/$lib && ! -e $swiftlib/$lib ]]; then
      install -m 644 "$SWIFT_RUNTIME/$lib" "$swiftlib/$lib"; added=1
    fi
  done < <(elves | xargs -r readelf -d | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort -u)
  ((added)) || break
done
for f in $(elves); do
  strip --strip-unneeded --remove-section=.comment --remove-section=.note "$f"
  case $f in
    "$root"/usr/bin/*) patchelf --set-rpath '$ORIGIN/../lib/pirec/swift' "$f" ;;
    "$root"/usr/lib/pirec/plugins/*) patchelf --set-rpath '$ORIGIN/../swift' "$f" ;;
    "$swiftlib"/*) patchelf --set-rpath '$ORIGIN' "$f" ;;
  esac
done

# The control file: Depends from dpkg-shlibdeps (the private Swift libraries need none).
install -d "$root/DEBIAN"
sed -n '/^Source:/,/^$/p' "$HERE/control" | sed "s/@MAINTAINER@/$maintainer/" > "$work/debian/control"
printf '\nPackage: pirec\nArchitecture: amd64\nDescription: x\n' >> "$work/debian/control"
shlibs=$(cd "$work" && dpkg-shlibdeps -O -l"$swiftlib" $(elves | sed "s#^$work/##") 2>"$work/shlibdeps.log" \
  | sed -n 's/^shlibs:Depends=//p') || { cat "$work/shlibdeps.log" >&2; exit 1; }
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -n '/^Package:/,$p' "$HERE/control" | sed "s/@VERSION@/$full/; s/@DEPENDS@/$shlibs/; s/@SIZE@/$size/; s/@MAINTAINER@/$maintainer/" \
  > "$root/DEBIAN/control"
echo /etc/pirec/pirec.yaml > "$root/DEBIAN/conffiles"
install -m 755 "$HERE/postinst" "$HERE/prerm" "$HERE/postrm" "$root/DEBIAN/"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f ! -path ./etc/pirec/pirec.yaml -print | sed 's#^\./##' \
  | sort | xargs md5sum > DEBIAN/md5sums)
chmod 644 "$root/DEBIAN/md5sums" "$root/DEBIAN/conffiles" "$root/DEBIAN/control"

mkdir -p "$OUTDIR"
deb=$OUTDIR/pirec_${full}_amd64.deb
dpkg-deb --root-owner-group -Z"${DEB_COMPRESSION:-xz}" --build "$root" "$deb" >/dev/null
echo "$deb: $(du -h "$deb" | cut -f1), depends: $shlibs"
if [[ ${LINTIAN:-} = yes ]]; then
  lintian --fail-on error,warning --info "$deb"
fi
