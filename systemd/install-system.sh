#!/bin/sh
# install-system.sh [ROOT] - the system side of `make install`, also run by the systemd test
# inside its container: the `pirec` system user and the data folders under
# ROOT/var/lib/pirec (inboxes group-writable and setgid, so members of group pirec can drop
# files), then a daemon reload. Safe to rerun; never touches files inside the folders.
set -eu
root=${1:-}
if [ -z "$root" ] && ! getent passwd pirec >/dev/null; then
  useradd --system --user-group --home-dir /var/lib/pirec --no-create-home --shell /usr/sbin/nologin pirec
fi
for dir in "" inbox outbox failed archive log inbox/photo inbox/sketch inbox/upscale; do
  install -d -m 2775 "$root/var/lib/pirec/$dir"
  [ -n "$root" ] || chown pirec:pirec "/var/lib/pirec/$dir"
done
if [ -z "$root" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
