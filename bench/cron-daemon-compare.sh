#!/usr/bin/env bash
# Runs Debian's cron daemon (`cron -f`) on an accelerated fake clock
# (libfaketime) across daylight-saving changes, and compares what it ran
# with `schedule next`. Needs root (for `unshare -m`); not run in CI.
#
# Each case runs in its own mount namespace: /etc is an overlay and /var/spool
# and /run are private tmpfs, so the daemon sees only our /etc/crontab, an
# empty /etc/cron.d and an empty /var/spool/cron/crontabs; nothing on the host
# changes. Each job appends the fake clock's instant to a file.
#
#   bench/cron-daemon-compare.sh            # every case
#   CRON=/path/cron LIBFAKETIME=/path/libfaketime.so.1 SCHEDULE=target/debug/schedule ...
#
# Without the packages installed, extract them anywhere:
#   apt-get download cron faketime libfaketime && for d in *.deb; do dpkg-deb -x "$d" root; done
#   CRON=$PWD/root/usr/sbin/cron LIBFAKETIME=$PWD/root/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ...
#
# Prints one line per case (`same` or `DIFFERENT`, with both lists) and a
# count; exit 1 if any case differs.
set -euo pipefail

CRON=${CRON:-/usr/sbin/cron}
LIBFAKETIME=${LIBFAKETIME:-/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1}
SCHEDULE=${SCHEDULE:-$(dirname "$0")/../target/debug/schedule}
SCHEDULE=$(realpath "$SCHEDULE")
# Fake seconds per real second: cron wakes once a fake minute.
SPEED=${SPEED:-30}

[ "$(id -u)" = 0 ] || { echo "needs root (unshare -m)" >&2; exit 2; }
for f in "$CRON" "$LIBFAKETIME" "$SCHEDULE"; do
    [ -e "$f" ] || { echo "missing $f" >&2; exit 2; }
done

# zone | fake start (UTC) | fake minutes to run | cron line | what it shows
# The spring-forward cases show cron(8)'s rule that schedule follows: a
# fixed-time job runs once for each local time the jump skips.
CASES=(
    "America/New_York|2026-03-08T06:40:00Z|40|0,30 2 * * *|spring forward: 02:00 and 02:30 skipped"
    "America/New_York|2026-03-08T06:40:00Z|40|0 1-3 * * *|spring forward: 02:00 skipped, 03:00 lands"
    "America/New_York|2026-03-08T06:40:00Z|40|1-5 2 * * *|spring forward: five skipped times"
    "America/New_York|2026-03-08T06:40:00Z|40|*/10 * * * *|spring forward: wildcard follows real time"
    "America/New_York|2026-11-01T04:50:00Z|140|30 1 * * *|fall back: fixed time once"
    "America/New_York|2026-11-01T04:50:00Z|140|15 1-3 * * *|fall back: hour range is fixed-time"
    "America/New_York|2026-11-01T04:50:00Z|140|*/20 1 * * *|fall back: wildcard runs on both passes"
    "Europe/Berlin|2026-03-29T00:40:00Z|40|30 2 * * *|spring forward in Berlin"
    "Europe/Berlin|2026-10-25T00:20:00Z|120|0,30 2 * * *|fall back in Berlin"
    "UTC|2026-02-28T23:50:00Z|20|0 0 * * *|plain midnight"
    "UTC|2026-02-28T23:50:00Z|20|0 0 30 2 *|never fires"
    "UTC|2026-03-01T23:55:00Z|10|0 0 2 * MON|day rule: the 2nd or a Monday"
)

run_case() {
    local zone=$1 start=$2 minutes=$3 line=$4 dir=$5
    mkdir -p "$dir/upper" "$dir/work"
    : >"$dir/stamps"
    local start_epoch now offset
    start_epoch=$(date -u -d "$start" +%s)
    now=$(date -u +%s)
    offset=$((start_epoch - now))
    # shellcheck disable=SC2016
    unshare -m --propagation private bash -s -- "$zone" "$offset" "$line" "$dir" \
        "$CRON" "$LIBFAKETIME" "$SPEED" "$minutes" <<'INNER'
set -euo pipefail
zone=$1 offset=$2 line=$3 dir=$4 cron=$5 lib=$6 speed=$7 minutes=$8
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$dir/upper,workdir=$dir/work" /etc
mount -t tmpfs tmpfs /var/spool
mount -t tmpfs tmpfs /run
mkdir -p /var/spool/cron/crontabs /etc/cron.d
find /etc/cron.d -mindepth 1 -delete
chmod 1730 /var/spool/cron/crontabs
printf 'auth sufficient pam_permit.so\naccount sufficient pam_permit.so\nsession optional pam_permit.so\n' >/etc/pam.d/cron
case $offset in -*) ;; *) offset=+$offset ;; esac
export TZ=$zone LD_PRELOAD=$lib FAKETIME="${offset} x${speed}" FAKETIME_NO_CACHE=1
# The first faked process creates the shared clock and exports its key;
# the jobs (whose environment cron builds from the crontab) attach to it.
exec bash -c '
cat >/etc/crontab <<EOF
SHELL=/bin/sh
LD_PRELOAD=$LD_PRELOAD
FAKETIME=$FAKETIME
FAKETIME_SHARED=$FAKETIME_SHARED
FAKETIME_NO_CACHE=1
$3 root date -u +\%Y-\%m-\%dT\%H:\%M:\%SZ >>$4/stamps
EOF
chmod 644 /etc/crontab
"$1" -f -L 0 &
pid=$!
sleep $(( $2 * 60 ))
kill $pid
wait $pid 2>/dev/null || true
' bash "$cron" "$minutes" "$line" "$dir"
INNER
}

# ONLY=3 runs the third case alone.
if [ -n "${ONLY:-}" ]; then CASES=("${CASES[ONLY - 1]}"); fi

tmp=$(mktemp -d)
[ -n "${KEEP:-}" ] && echo "keeping $tmp" >&2 || trap 'rm -rf "$tmp"' EXIT
same=0 different=0 i=0
pids=()
for c in "${CASES[@]}"; do
    IFS='|' read -r zone start minutes line _ <<<"$c"
    i=$((i + 1))
    run_case "$zone" "$start" "$minutes" "$line" "$tmp/$i" >"$tmp/$i.log" 2>&1 &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done

i=0
for c in "${CASES[@]}"; do
    IFS='|' read -r zone start minutes line what <<<"$c"
    i=$((i + 1))
    end=$(date -u -d "$start + $minutes minutes" +%s)
    # cron runs a job in the minute it is due; keep the minute.
    got=$(sed -E 's/:[0-9]{2}Z$/:00Z/' "$tmp/$i/stamps" | sort | tr '\n' ' ')
    want=$("$SCHEDULE" next "$line" --tz "$zone" --after "$start" --count 50 2>/dev/null |
        while read -r t _; do
            if [ "$(date -u -d "$t" +%s)" -lt "$end" ]; then
                date -u -d "$t" +%Y-%m-%dT%H:%M:00Z
            fi
        done | tr '\n' ' ')
    if [ "$got" = "$want" ]; then
        same=$((same + 1))
        printf 'same       %-16s %-14s %s (%s): %s\n' "$zone" "$line" "$start" "$what" "${got:-nothing}"
    else
        different=$((different + 1))
        printf 'DIFFERENT  %-16s %-14s %s (%s)\n  cron:     %s\n  schedule: %s\n' \
            "$zone" "$line" "$start" "$what" "${got:-nothing}" "${want:-nothing}"
        sed 's/^/  log: /' "$tmp/$i.log" | head -5
    fi
done
echo "$same same, $different different, of ${#CASES[@]} cases"
[ "$different" = 0 ]
