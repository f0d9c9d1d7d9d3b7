#!/usr/bin/env bash
# The Debian 13 trixie lane (Qt 6.8.2, QCoro 0.12, g++ 14), as root on any
# Debian host: makes a trixie root with debootstrap once, installs there the
# packages of scripts/install-deps.sh (that script, run inside), shows it this
# checkout at the same path and runs scripts/test.sh there on the presets
# trixie-<config> (build/trixie-<config>, apart from the host's build/<config>).
#
#   scripts/test-trixie.sh [release] [asan] [tsan]   # default: release, or QTOFFLOAD_TEST_CONFIGS
#   scripts/test-trixie.sh --run COMMAND [ARG...]    # runs COMMAND in the root, in the checkout
#
# QTOFFLOAD_TRIXIE_ROOT: where the root is kept and reused (/var/cache/qtoffload/trixie).
# QTOFFLOAD_TRIXIE_FRESH=1: remake it. A root whose making did not finish (no
# marker file) is remade on its own. The mounts (/proc, /sys, /dev, /dev/pts,
# /dev/shm, /tmp, the checkout) live in a private mount namespace and are
# unmounted on exit, failure or interrupt. The output ends with test.sh's
# 'N passed, N failed' line (0 passed, 1 failed when the root could not be made).
set -uo pipefail
self=$(readlink -f "$0")
checkout=$(cd "$(dirname "$self")/.." && pwd -P)
root=${QTOFFLOAD_TRIXIE_ROOT:-/var/cache/qtoffload/trixie}
root=$(readlink -m "$root")
marker="$root/.qtoffload-trixie-ready"
run=()
if [[ ${1:-} == --run ]]; then
    run=("${@:2}")
    ((${#run[@]})) || run=(bash)
    configs=()
else
    configs=("$@")
    ((${#configs[@]})) || read -r -a configs <<<"${QTOFFLOAD_TEST_CONFIGS:-release}"
fi

fail() {
    echo "test-trixie: $*" >&2
    echo "0 passed, 1 failed"
    exit 1
}

[[ $(id -u) -eq 0 ]] || fail "must run as root (debootstrap, mount, chroot)"
[[ $root != / && $root != "$checkout" && $checkout != "$root"/* ]] || fail "QTOFFLOAD_TRIXIE_ROOT=$root is not a usable place"
for config in "${configs[@]}"; do
    [[ $config =~ ^(release|tsan|asan)$ ]] || fail "unknown configuration '$config' (release, tsan or asan)"
done

# Every mount below goes into a mount namespace of this script's own, so none
# can outlive it on the host even if it is killed; the trap unmounts them too.
if [[ -z ${QTOFFLOAD_TRIXIE_NAMESPACE:-} ]] && unshare --mount --propagation private true 2>/dev/null; then
    QTOFFLOAD_TRIXIE_NAMESPACE=1 exec unshare --mount --propagation private "$self" "$@"
fi

mounted=()
unmount_all() {
    local i
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" 2>/dev/null
    done
    mounted=()
}
# What runs in the root runs in a process group of its own (in_root), which a
# signal to this script is passed on to; then the mounts go.
child=0
stop() {
    if ((child)); then
        kill -TERM -- "-$child" 2>/dev/null
        wait "$child" 2>/dev/null
    fi
    exit "$1"
}
trap unmount_all EXIT
trap 'stop 130' INT
trap 'stop 143' TERM
mount_in() { # mount_in TARGET MOUNT-ARGUMENTS...
    mkdir -p "$1" && mount "${@:2}" "$1" || fail "cannot mount $1"
    mounted+=("$1")
}
# Mounts left under the root by a run outside a namespace (killed before its trap).
unmount_stale() {
    findmnt -rn -o TARGET | awk -v root="$root" 'index($0, root "/") == 1' | sort -r | while read -r target; do
        umount -l "$target"
    done
    ! findmnt -rn -o TARGET | awk -v root="$root" 'index($0, root "/") == 1 { found = 1 } END { exit !found }'
}

mkdir -p "$(dirname "$root")" || fail "cannot make $(dirname "$root")"
exec 9>"$root.lock"
flock -w 3600 9 || fail "another test-trixie.sh holds $root.lock"

started=$SECONDS
if [[ -e $root && (-n ${QTOFFLOAD_TRIXIE_FRESH:-} || ! -f $marker) ]]; then
    if [[ -f $marker ]]; then why="QTOFFLOAD_TRIXIE_FRESH is set"; else why="its making did not finish"; fi
    echo "=== trixie root: removing $root ($why)"
    unmount_stale || fail "something is still mounted under $root"
    rm -rf --one-file-system "$root" || fail "cannot remove $root"
fi
if [[ ! -e $root ]]; then
    if ! command -v debootstrap >/dev/null; then
        echo "=== host: installing debootstrap"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap \
            || fail "cannot install debootstrap"
    fi
    echo "=== trixie root: debootstrap into $root"
    # Debootstrap's own default mirror: no host name is kept here.
    debootstrap --variant=minbase trixie "$root" || fail "debootstrap failed (the root is remade next time)"
fi

# What the root needs from the host on every run.
cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" && chmod 755 "$root/usr/sbin/policy-rc.d" # no daemons
mount_in "$root/proc" -t proc proc
mount_in "$root/sys" -t sysfs sysfs
mount_in "$root/dev" --bind /dev
mount_in "$root/dev/pts" --bind /dev/pts
mount_in "$root/dev/shm" -t tmpfs tmpfs
mount_in "$root/tmp" -t tmpfs tmpfs
mount_in "$root$checkout" --bind "$checkout"

in_root() {
    local rc
    setsid chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" ${CI:+CI="$CI"} \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@" <&0 &
    child=$!
    wait "$child"
    rc=$?
    child=0
    return "$rc"
}

# The same package list as the host's lane: install-deps.sh installs what is missing.
echo "=== trixie root: scripts/install-deps.sh"
in_root "$checkout/scripts/install-deps.sh" || fail "installing the packages failed (the root is remade next time)"
[[ -f $marker ]] || date -u +"made %F %T UTC" >"$marker"
echo "=== trixie root ready in $((SECONDS - started)) s: $(in_root sh -c '. /etc/os-release; echo "$PRETTY_NAME"'), Qt $(in_root dpkg-query -W -f='${Version}' qt6-base-dev), QCoro $(in_root dpkg-query -W -f='${Version}' qcoro-qt6-dev), $(in_root g++ --version | head -1)"

if ((${#run[@]})); then
    in_root bash -c 'cd "$1" && shift && exec "$@"' test-trixie "$checkout" "${run[@]}"
    exit
fi

# The format check is the host lane's (bookworm's clang-format is the one the
# sources are kept to); everything else runs as there.
trixie_configs=("${configs[@]/#/trixie-}")
in_root QTOFFLOAD_TEST_CONFIGS="${trixie_configs[*]}" QTOFFLOAD_TEST_FORMAT=0 \
    bash -c 'cd "$1" && exec scripts/test.sh' test-trixie "$checkout"
