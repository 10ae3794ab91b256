#!/usr/bin/env bash
# bpffs not mounted (a private mount namespace without /sys/fs/bpf, so the host is untouched): a
# pin dir under /sys/fs/bpf gets bpffs mounted there by the controller and works; a pin dir on
# another file system is refused with one clear line, exit 2.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"

# In the namespace: unmount every bpffs on /sys/fs/bpf, then the two cases; prints results.
cat >"$tmp/inner.sh" <<'INNER'
while mountpoint -q /sys/fs/bpf; do umount /sys/fs/bpf || exit 9; done
stat -f -c %T /sys/fs/bpf
"$GEOBLOCK" meeting add m1 --ports 8801 --block DE >/dev/null 2>"$TMP/err1"; echo "rc1 $?"
stat -f -c %T /sys/fs/bpf
"$GEOBLOCK" meeting list --json | jq -r '.[].name'
GEOBLOCK_PIN_DIR=$TMP/pins "$GEOBLOCK" meeting list >/dev/null 2>"$TMP/err2"; echo "rc2 $?"
INNER
out=$(TMP=$tmp GEOBLOCK=$GEOBLOCK unshare -m --propagation private bash "$tmp/inner.sh" 2>&1)
echo "$out"
check_eq "namespace without bpffs, then the controller mounts it, then the other pin dir" \
	"$(printf '%s\n' sysfs 'rc1 0' bpf_fs m1 'rc2 2')" "$out"
check_eq "the refusal is one line naming the cause" \
	"geoblock: meeting list: pin dir $tmp/pins is not on a bpf filesystem; mount one with 'mount -t bpf bpf DIR'" \
	"$(cat "$tmp/err2")"
check "nothing left in the host's bpffs" test ! -e "$GEOBLOCK_PIN_DIR"
check "the host's bpffs is still mounted" mountpoint -q /sys/fs/bpf
summary
