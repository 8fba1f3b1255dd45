#!/usr/bin/env bash
# Installs the real tools the tests and checks run (npm run setup; .ci/run calls it before the
# tests). Idempotent: only what is missing is installed. Debian packages need root (CI runs as
# root); Go tools land in ~/.cache/smart-home/bin. Python tools (checkov, moto) are installed by
# the scripts that use them, into virtual environments under ~/.cache/smart-home.
set -euo pipefail

# Debian packages, and why:
apt_packages=(
  openssh-server          # the controller redeploy runs over SSH: tests use a real sshd on loopback
  qemu-user-static        # the Pi agent's arm64 release runs under user-mode emulation in tests
  libc6-arm64-cross       # ... with the arm64 C library (QEMU_LD_PREFIX=/usr/aarch64-linux-gnu)
  libstdc++6-arm64-cross  # ... and C++ runtime that node and aws-crt link against
  dosfstools              # mkfs.fat: tests build a real Raspberry Pi OS-like image
  mtools                  # reads and writes the FAT boot partition without mounting
  fdisk                   # sfdisk: partition tables for those images
  cloud-init              # cloud-init schema validates the image's user-data
  shellcheck              # actionlint checks workflow run: blocks with it; scripts are linted
)

missing=()
for package in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]}; run as root (or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Go tools, pinned.
bin="${SMART_HOME_CACHE:-$HOME/.cache/smart-home}/bin"
mkdir -p "$bin"
if [ ! -x "$bin/actionlint" ]; then
  echo "installing actionlint v1.7.12"
  GOBIN="$bin" go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
fi
echo "tools ready (Go tools in $bin)"
