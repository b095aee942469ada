#!/usr/bin/env bash
# systemd-test.sh - pirecd under a REAL systemd 252: a Debian 12 root filesystem booted with
# systemd-nspawn (systemd as PID 1 of its own namespaces), driven from here with
# `nsenter ... systemctl`. Installs the build (make install-files + systemd/install-system.sh)
# inside, then checks what an admin relies on: the unit verifies clean and is hardened
# (exposure <= 2.0), start -> active with our STATUS, a dropped file is processed, reload is
# synchronous and takes effect, a bad reload fails and keeps the old chain, journald keeps
# our priorities, the watchdog restarts a hung daemon, stop loses no job. Then the Debian
# package of the same build (packaging/deb/build.sh) in a fresh boot with no Swift toolchain:
# install, run, upgrade with a changed conffile kept, remove, purge.
# Adapted from ../shared/recipes/systemd-nspawn-check.sh.
#
# Needs root and Debian's apt repositories (first run: debootstrap, about 90 s; the root
# filesystem is cached in $LAB). Usage: bash Tests/system/systemd-test.sh [build folder]
# Exit 0 only when every check passed; the last line says "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
BUILD=${1:-.build/debug}
LAB=${PIREC_SYSTEMD_LAB:-${XDG_CACHE_HOME:-$HOME/.cache}/pirec-systemd-lab}
ROOTFS=$LAB/rootfs-pirecd
RUN=$(mktemp -d /tmp/pirec-systemd-test.XXXXXX)
STAGE=$RUN/stage
MACHINE=pirecd-test-$$
SWIFT_RUNTIME=$(dirname "$(readlink -f "$(command -v swift)")")/../lib/swift/linux
SWIFT_RUNTIME=$(readlink -f "$SWIFT_RUNTIME")
say() { printf '[%s] %s\n' "$(date +%T)" "$*"; }

if [[ $(id -u) != 0 ]]; then
  echo "systemd-test.sh: needs root (systemd-nspawn); run as root, as CI does" >&2
  exit 1
fi
[[ -x $BUILD/pirecd && -x $BUILD/pirec ]] || { echo "no $BUILD/pirecd: build first (swift build)" >&2; exit 1; }

# ---------------------------------------------------------------- packages, rootfs
need=()
for p in debootstrap systemd-container; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need+=("$p")
done
if ((${#need[@]})); then
  say "installing: ${need[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# The libraries pirec links (the Swift runtime is bind-mounted from this machine for the
# build, and inside the package for the package's checks): the package's Depends are met
# without a download.
LIBS=libpng16-16,libyaml-0-2,libopenblas0,libopenblas0-pthread,libstdc++6,libgcc-s1,zlib1g,libgfortran5
if [[ ! -x $ROOTFS/lib/systemd/systemd || ! -e $ROOTFS/.pirec-libs-$LIBS ]]; then
  MIRROR=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null)
  [[ -n $MIRROR ]] || MIRROR=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null)
  say "debootstrap bookworm -> $ROOTFS (once; cached)"
  rm -rf "$ROOTFS"; mkdir -p "$LAB"
  debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,passwd,$LIBS \
      bookworm "$ROOTFS" "$MIRROR" > "$LAB/debootstrap.log" 2>&1 \
    || { echo "debootstrap failed, see $LAB/debootstrap.log"; exit 2; }
  echo pirecd-lab > "$ROOTFS/etc/hostname"
  chroot "$ROOTFS" systemctl mask console-getty.service getty.target >/dev/null 2>&1 || true
  : > "$ROOTFS/etc/machine-id"
  rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
  touch "$ROOTFS/.pirec-libs-$LIBS"
fi

# ---------------------------------------------------------------- what gets installed
make -s install-files RELEASE="$BUILD" DESTDIR="$STAGE" >/dev/null || { echo "make install-files failed"; exit 1; }
cp systemd/install-system.sh "$RUN/install-system.sh"
cp examples/coffee_97x61.png "$RUN/test.png"
# The test configuration: one pipeline whose chain the reload changes.
cat > "$RUN/pirec.yaml" <<'YAML'
workers: 2
job_log: /var/lib/pirec/log/jobs.jsonl
pipelines:
  - name: upscale
    watch: /var/lib/pirec/inbox/upscale
    output: /var/lib/pirec/outbox/upscale
    failed: /var/lib/pirec/failed/upscale
    archive: /var/lib/pirec/archive/upscale
    chain:
      - plugin: upscaler
        with: { scale: 2 }
YAML
sed 's/scale: 2/scale: 4/' "$RUN/pirec.yaml" > "$RUN/pirec-scale4.yaml"
printf 'pipelines:\n  - name: upscale\n    chain: [ { plugin: upscaler, with: { scale: 3 } } ]\n' > "$RUN/pirec-bad.yaml"
# The test's only change to the unit: a short watchdog, so a hang is caught in seconds.
printf '[Service]\nWatchdogSec=3\n' > "$RUN/watchdog.conf"
{ echo "metrics: 127.0.0.1:9464"; cat "$RUN/pirec-scale4.yaml"; } > "$RUN/pirec-metrics.yaml"
# The Debian package of the same build (make deb's script), and an upgrade of it: the same
# files repacked as revision 2 with a changed shipped configuration, so dpkg meets a conffile
# both the admin and the package changed.
say "building the Debian package"
DEB_COMPRESSION=gzip bash packaging/deb/build.sh "$BUILD" "$RUN/deb" || { echo "packaging/deb/build.sh failed"; exit 1; }
DEB1=$(ls "$RUN"/deb/pirec_*-1_amd64.deb)
dpkg-deb -R "$DEB1" "$RUN/deb2"
sed -i 's/^\(Version: .*\)-1$/\1-2/' "$RUN/deb2/DEBIAN/control"
echo "# revision 2" >> "$RUN/deb2/etc/pirec/pirec.yaml"
DEB2=${DEB1%-1_amd64.deb}-2_amd64.deb
dpkg-deb --root-owner-group -Zgzip --build "$RUN/deb2" "$DEB2" >/dev/null
rm -rf "$RUN/deb2"
cp examples/emoji/1f3a9.png "$RUN/emoji.png"

# ---------------------------------------------------------------- boot
# boot [nspawn options...]: the root filesystem booted afresh (a volatile overlay, so each
# boot starts from the debootstrapped tree); sets TPID, LEADER and the boot's state.
TPID=
LEADER=
boot() {
  timeout -k 5 600 systemd-nspawn --quiet --directory="$ROOTFS" --machine="$MACHINE" \
      --register=no --keep-unit --volatile=overlay --bind-ro="$RUN":/opt/test "$@" \
      --console=read-only --boot >> "$RUN/console.log" 2>&1 &
  TPID=$!
  LEADER=
  for _ in $(seq 100); do
    NSPAWN=$(pgrep -P "$TPID" -x systemd-nspawn | head -1)
    [[ -n $NSPAWN ]] && LEADER=$(pgrep -P "$NSPAWN" -x systemd | head -1)
    [[ -n $LEADER ]] && break
    sleep 0.1
  done
  [[ -n $LEADER ]] || { say "container did not start"; cat "$RUN/console.log"; exit 3; }
  for _ in $(seq 600); do C test -S /run/systemd/private 2>/dev/null && break; sleep 0.1; done
  state=$(C timeout 60 systemctl is-system-running --wait 2>&1)
  say "booted: $state"
}
halt() {
  if kill -0 "$TPID" 2>/dev/null; then
    [[ -n $LEADER ]] && nsenter -t "$LEADER" -a systemctl poweroff 2>/dev/null
    for _ in $(seq 150); do kill -0 "$TPID" 2>/dev/null || break; sleep 0.2; done
    kill "$TPID" 2>/dev/null
  fi
  return 0
}
cleanup() {
  [[ -n $TPID ]] && halt
  rm -rf "$RUN"
}
trap cleanup EXIT
C() { nsenter -t "$LEADER" -a "$@"; }
# The build's binaries find the Swift runtime where this machine's toolchain has it.
boot --bind-ro="$SWIFT_RUNTIME":"$SWIFT_RUNTIME"

pass=0; fail=0
check() {  # check "what" command...
  local name=$1; shift
  if "$@" >>"$RUN/checks.log" 2>&1; then pass=$((pass+1)); say "PASS $name"
  else fail=$((fail+1)); say "FAIL $name"; tail -5 "$RUN/checks.log" | sed 's/^/    /'; fi
}
: > "$RUN/checks.log"
U=pirecd.service
status_text() { C systemctl show -P StatusText $U; }
drop() {  # drop NAME: a PNG copied into the inbox, as a user would
  C cp /usr/local/share/pirec/test.png "/var/lib/pirec/inbox/upscale/$1.png"
}
wait_for() {  # wait_for SECONDS COMMAND...
  local n=$(( $1 * 10 )); shift
  for _ in $(seq "$n"); do "$@" 2>/dev/null && return 0; sleep 0.1; done
  "$@"
}
# The width in a PNG's IHDR (bytes 16-19), read through the container's root.
width_of() { od -An -tu1 -j16 -N4 "/proc/$LEADER/root$1" | awk '{print $1*16777216+$2*65536+$3*256+$4}'; }
width_is() {  # width_is PATH WIDTH: waits for the file, then compares
  for _ in $(seq 150); do [ -s "/proc/$LEADER/root$1" ] && break; sleep 0.1; done
  [ "$(width_of "$1")" = "$2" ]
}

# ---------------------------------------------------------------- install inside
check "system boots" test "$state" = running
C sh -c 'cp -a /opt/test/stage/. / && sh /opt/test/install-system.sh && cp /opt/test/pirec.yaml /etc/pirec/pirec.yaml'
C install -d /etc/systemd/system/$U.d
C cp /opt/test/watchdog.conf /etc/systemd/system/$U.d/watchdog.conf
C cp /opt/test/test.png /usr/local/share/pirec/test.png
C systemctl daemon-reload
check "systemd-analyze verify is clean" bash -c "out=\$(nsenter -t $LEADER -a systemd-analyze verify /usr/local/lib/systemd/system/$U 2>&1); echo \"\$out\"; [[ -z \$out ]]"
exposure=$(C systemd-analyze security $U 2>/dev/null | awk '/Overall exposure level/ {print $(NF-2)}')
say "systemd-analyze security: exposure $exposure"
check "exposure <= 2.0 ($exposure)" awk -v e="$exposure" 'BEGIN { exit !(e != "" && e <= 2.0) }'

# ---------------------------------------------------------------- start, drop
check "systemctl start" C systemctl start $U
check "active after start" C systemctl is-active $U
check "STATUS shows our counts" bash -c "nsenter -t $LEADER -a systemctl show -P StatusText $U | grep -E '^watching 1 folder; [0-9]+ done, [0-9]+ failed, [0-9]+ queued'"
drop first
check "a dropped file is processed" wait_for 15 C test -s /var/lib/pirec/outbox/upscale/first.png
check "with its sidecar" C test -s /var/lib/pirec/outbox/upscale/first.json
check "output is 2x (194 wide)" width_is /var/lib/pirec/outbox/upscale/first.png 194
check "input archived" C test -e /var/lib/pirec/archive/upscale/first.png
check "pirec status reads the running daemon (RuntimeDirectory)" wait_for 5 bash -c "nsenter -t $LEADER -a /usr/local/bin/pirec status | grep -E '^pipeline upscale: 1 done, 0 failed, 0 queued, 0 running$'"

# ---------------------------------------------------------------- reload
C cp /opt/test/pirec-scale4.yaml /etc/pirec/pirec.yaml
MAIN0=$(C systemctl show -P MainPID $U)
check "systemctl reload (new chain)" C systemctl reload $U
# No sleep: reload must have returned only after the new configuration was in force.
check "reload was synchronous (journal says reloaded)" bash -c "nsenter -t $LEADER -a journalctl -u $U --no-pager | grep -q 'reloaded config='"
check "same MainPID after reload" test "$(C systemctl show -P MainPID $U)" = "$MAIN0"
drop second
check "new chain in force: output 4x (388 wide)" width_is /var/lib/pirec/outbox/upscale/second.png 388
C cp /opt/test/pirec-bad.yaml /etc/pirec/pirec.yaml
check "reload with an invalid YAML fails" bash -c "! nsenter -t $LEADER -a systemctl reload $U"
check "still active after the failed reload" C systemctl is-active $U
check "the error names file:line:column" bash -c "nsenter -t $LEADER -a journalctl -u $U --no-pager | grep -q '/etc/pirec/pirec.yaml:3:'"
drop third
check "old chain still works (388 wide)" width_is /var/lib/pirec/outbox/upscale/third.png 388
C cp /opt/test/pirec-scale4.yaml /etc/pirec/pirec.yaml

# ---------------------------------------------------------------- journal priorities
C sh -c 'echo broken > /var/lib/pirec/inbox/upscale/broken.png'
check "a corrupt file lands in failed with a reason" wait_for 15 C grep -q "not a PNG" /var/lib/pirec/failed/upscale/broken.error.txt
C journalctl -u $U -o json --no-pager > "$RUN/journal.json" 2>/dev/null
check "journal: 'ready' at priority 6" grep -q '"PRIORITY":"6".*"MESSAGE":"ready \|"MESSAGE":"ready .*"PRIORITY":"6"' "$RUN/journal.json"
check "journal: 'job failed' at priority 3" grep -q '"MESSAGE":"job failed.*"PRIORITY":"3"\|"PRIORITY":"3".*"MESSAGE":"job failed' "$RUN/journal.json"
check "journal: 'job done' at priority 6" grep -q '"MESSAGE":"job done.*"PRIORITY":"6"\|"PRIORITY":"6".*"MESSAGE":"job done' "$RUN/journal.json"

# ---------------------------------------------------------------- watchdog
MAIN1=$(C systemctl show -P MainPID $U)
C sh -c 'kill -STOP "$1"' sh "$MAIN1"   # as a hang: the main loop stops pinging
check "watchdog restarts a hung daemon" wait_for 30 bash -c "p=\$(nsenter -t $LEADER -a systemctl show -P MainPID $U); [ \"\$p\" != 0 ] && [ \"\$p\" != $MAIN1 ] && nsenter -t $LEADER -a systemctl is-active $U"
check "journal says watchdog timeout" bash -c "nsenter -t $LEADER -a journalctl -u $U --no-pager | grep -q 'Watchdog timeout'"

# ---------------------------------------------------------------- metrics through the socket unit
# The service keeps PrivateNetwork=yes and AF_UNIX only: systemd listens and passes the socket.
# systemd refuses to start a socket unit while its service runs: stop, enable, start.
C systemctl stop $U
C cp /opt/test/pirec-metrics.yaml /etc/pirec/pirec.yaml
check "systemctl enable --now pirecd-metrics.socket" C systemctl enable --now pirecd-metrics.socket
check "start with metrics: in the configuration" C systemctl start $U
scrape() {  # GET /metrics from inside the container with bash's /dev/tcp (no curl there)
  C bash -c 'exec 3<>/dev/tcp/127.0.0.1/9464 && printf "GET /metrics HTTP/1.0\r\n\r\n" >&3 && cat <&3'
}
drop metrics1
check "a job is counted on /metrics" wait_for 15 bash -c "$(declare -f C scrape); LEADER=$LEADER; scrape | grep -E '^pirec_jobs_total\{pipeline=\"upscale\",status=\"done\"\} 1'"
check "the journal says it serves the socket systemd passed" bash -c "nsenter -t $LEADER -a journalctl -u $U --no-pager | grep -q 'serving metrics address=\"127.0.0.1:9464 (the socket systemd passed)\"'"
check "the service still has no network of its own" bash -c "[[ \$(nsenter -t $LEADER -a systemctl show -P PrivateNetwork $U) = yes ]]"

# ---------------------------------------------------------------- stop loses nothing
wait_for 20 bash -c "nsenter -t $LEADER -a systemctl is-active $U" >/dev/null
for i in $(seq 1 30); do drop "burst$i"; done
check "systemctl stop" C systemctl stop $U
check "inactive after stop" bash -c "[[ \$(nsenter -t $LEADER -a systemctl is-active $U) = inactive ]]"
count_burst() {  # outputs + unclaimed + claimed burst inputs, and failures
  local out left claimed failed
  out=$(C sh -c 'ls /var/lib/pirec/outbox/upscale | grep -c "^burst[0-9]*\.png$"')
  left=$(C sh -c 'ls /var/lib/pirec/inbox/upscale | grep -c "^burst"')
  claimed=$(C sh -c 'ls /var/lib/pirec/inbox/upscale/.processing 2>/dev/null | grep -c "^burst[0-9]*\.png$"')
  failed=$(C sh -c 'ls /var/lib/pirec/failed/upscale | grep -c "^burst"')
  echo "$out done, $left waiting, $claimed claimed, $failed failed"
  [[ $failed = 0 && $((out + left + claimed)) = 30 ]]
}
check "after stop every burst file is done, waiting or claimed" count_burst
C systemctl start $U
check "after restart all 30 are done" wait_for 30 bash -c "[ \$(ls /proc/$LEADER/root/var/lib/pirec/outbox/upscale | grep -c '^burst[0-9]*\.png$') = 30 ]"
check "systemctl stop (again)" C systemctl stop $U
C journalctl -u $U --no-pager > "$RUN/journal.txt" 2>&1
cp "$RUN/journal.txt" /tmp/pirecd-systemd-test-journal.txt 2>/dev/null

halt

# ---------------------------------------------------------------- the Debian package
# A fresh boot with no Swift toolchain anywhere: the package must bring its runtime.
boot
deb_is() {  # deb_is STATUS: dpkg's view of pirec ("ii" installed, "rc" config files left)
  [[ $(C dpkg-query -W -f='${db:Status-Abbrev}' pirec 2>/dev/null | tr -d ' ') = "$1" ]]
}
apt_get() { C env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"; }
check "no Swift runtime in the container" bash -c "[[ ! -e /proc/$LEADER/root$SWIFT_RUNTIME ]] && ! nsenter -t $LEADER -a sh -c 'ldconfig -p | grep -q libswiftCore'"
check "apt-get install ./pirec_*-1_amd64.deb" apt_get install "/opt/test/deb/${DEB1##*/}"
check "dpkg: installed" deb_is ii
check "pirec runs on the packaged runtime" bash -c "nsenter -t $LEADER -a pirec --version | grep -q 'plugin ABI'"
check "the postinst made the pirec user" C getent passwd pirec
check "pirecd is enabled" C systemctl is-enabled $U
check "pirecd is active" wait_for 10 C systemctl is-active $U
C cp /opt/test/emoji.png /var/lib/pirec/inbox/photo/hat.png
C cp /opt/test/test.png /var/lib/pirec/inbox/upscale/coffee.png
check "a photo goes through the packaged networks" wait_for 60 C test -s /var/lib/pirec/outbox/photo/hat.png
check "the upscale pipeline doubles (194 wide)" width_is /var/lib/pirec/outbox/upscale/coffee.png 194
check "the installed config passes pirec check" C pirec check --config /etc/pirec/pirec.yaml

C sh -c 'sed -i "s/^workers: 2/workers: 1   # changed by the admin/" /etc/pirec/pirec.yaml'
MAIN2=$(C systemctl show -P MainPID $U)
check "apt-get install revision 2 (upgrade)" apt_get install "/opt/test/deb/${DEB2##*/}"
check "dpkg: revision 2 installed" bash -c "[[ \$(nsenter -t $LEADER -a dpkg-query -W -f='\${Version}' pirec) = *-2 ]]"
check "the admin's pirec.yaml is kept" C grep -q "changed by the admin" /etc/pirec/pirec.yaml
check "the package's new one is beside it (.dpkg-dist)" C grep -q "revision 2" /etc/pirec/pirec.yaml.dpkg-dist
check "pirecd was restarted into the new files" wait_for 10 bash -c "p=\$(nsenter -t $LEADER -a systemctl show -P MainPID $U); [[ \$p != 0 && \$p != $MAIN2 ]] && nsenter -t $LEADER -a systemctl is-active $U"
C cp /opt/test/test.png /var/lib/pirec/inbox/upscale/after-upgrade.png
check "a file dropped after the upgrade is done" width_is /var/lib/pirec/outbox/upscale/after-upgrade.png 194

check "apt-get remove pirec" apt_get remove pirec
check "dpkg: removed, config files left (rc)" deb_is rc
check "pirecd is stopped and gone" bash -c "! nsenter -t $LEADER -a systemctl is-active $U && [[ ! -e /proc/$LEADER/root/usr/bin/pirecd && ! -e /proc/$LEADER/root/usr/lib/pirec ]]"
check "remove keeps /etc/pirec/pirec.yaml and the user's files" C test -s /etc/pirec/pirec.yaml -a -s /var/lib/pirec/outbox/photo/hat.png
check "apt-get purge pirec" apt_get purge pirec
check "dpkg: not installed" bash -c "! nsenter -t $LEADER -a dpkg-query -W -f='\${db:Status-Abbrev}' pirec 2>/dev/null | grep -q '^[ir]'"
check "purge removes /etc/pirec and /var/lib/pirec" bash -c "[[ ! -e /proc/$LEADER/root/etc/pirec && ! -e /proc/$LEADER/root/var/lib/pirec ]]"
check "no unit file or enable link is left" bash -c "[[ -z \$(nsenter -t $LEADER -a find /lib/systemd/system /etc/systemd/system -name 'pirecd*') ]]"
halt
TPID=

echo "$pass passed, $fail failed (journal: /tmp/pirecd-systemd-test-journal.txt)"
[[ $fail -eq 0 ]]
