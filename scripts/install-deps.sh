#!/usr/bin/env bash
# Installs the Debian packages QtOffload needs, only those missing. The one
# package list for every lane: bookworm on the host (scripts/test.sh,
# scripts/demo.sh) and the trixie root, where scripts/test-trixie.sh runs this
# same script. `install-deps.sh --list` prints the list, one package a line.
set -euo pipefail
packages=(
    cmake ninja-build g++ pkg-config
    qt6-base-dev qt6-base-private-dev qt6-base-dev-tools qt6-declarative-dev qcoro-qt6-dev
    qml6-module-qttest qml6-module-qtquick qml6-module-qtqml qml6-module-qtqml-workerscript
    qml6-module-qtquick-window qml6-module-qtqml-models
    # A Qt Quick app with Controls needs these three too: Debian packages each QML module apart.
    qml6-module-qtquick-controls qml6-module-qtquick-templates qml6-module-qtquick-layouts
    netcat-openbsd doxygen clang-format
)
if [[ ${1:-} == --list ]]; then
    printf '%s\n' "${packages[@]}"
    exit 0
fi
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    echo "Installing: ${missing[*]}"
    sudo_cmd=()
    [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
