#!/bin/sh
# Installs the smart-home agent from the unpacked release (run as root on the Pi):
#   sudo ./install.sh --claim-cert claim.pem --claim-key claim.key --config config.json
# Idempotent: re-running upgrades the program and keeps the device's identity and state.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
prefix=/opt/smart-home-agent
etc=/etc/smart-home-agent
claim_cert='' claim_key='' config=''
while [ $# -gt 0 ]; do
  case "$1" in
    --claim-cert) claim_cert=$2; shift 2 ;;
    --claim-key) claim_key=$2; shift 2 ;;
    --config) config=$2; shift 2 ;;
    *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root" >&2; exit 1; }
[ "$(uname -m)" = aarch64 ] || { echo "install.sh: this release is for 64-bit Raspberry Pi OS (aarch64), not $(uname -m)" >&2; exit 1; }

getent group gpio >/dev/null || groupadd --system gpio
id smart-home-agent >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin smart-home-agent

# The program: replaced whole, so an upgrade never mixes versions.
rm -rf "$prefix.new"
mkdir -p "$prefix.new"
cp -R "$here/bin" "$here/lib" "$here/docs" "$here/VERSION" "$prefix.new/"
rm -rf "$prefix.old"
[ -d "$prefix" ] && mv "$prefix" "$prefix.old"
mv "$prefix.new" "$prefix"
rm -rf "$prefix.old"

install -d -m 0755 "$etc"
install -d -m 0700 -o smart-home-agent -g smart-home-agent "$etc/claim"
if [ -n "$config" ]; then install -m 0644 "$config" "$etc/config.json"; fi
if [ -n "$claim_cert" ]; then install -m 0600 -o smart-home-agent -g smart-home-agent "$claim_cert" "$etc/claim/claim.pem"; fi
if [ -n "$claim_key" ]; then install -m 0600 -o smart-home-agent -g smart-home-agent "$claim_key" "$etc/claim/claim.key"; fi
[ -f "$etc/config.json" ] || { echo "install.sh: no $etc/config.json yet: pass --config (see $here/config.example.json)" >&2; exit 1; }

install -m 0644 "$here/systemd/smart-home-agent.service" /etc/systemd/system/smart-home-agent.service
systemctl daemon-reload
systemctl enable smart-home-agent.service
systemctl restart smart-home-agent.service
echo "smart-home-agent $(cat "$prefix/VERSION") installed; logs: journalctl -u smart-home-agent -f"
