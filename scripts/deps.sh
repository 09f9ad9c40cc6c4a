#!/usr/bin/env bash
# Install the Debian packages kvmbox needs to build and test (skips what is already there).
# Usage: scripts/deps.sh [extra packages...]   (uses sudo when not root)
set -euo pipefail
packages=(build-essential libcmocka-dev clang libclang-rt-14-dev pkg-config libdw-dev libcapstone-dev libseccomp-dev
	libbz2-dev liblzma-dev zlib1g-dev gdb python3 "$@")
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "scripts/deps.sh: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
