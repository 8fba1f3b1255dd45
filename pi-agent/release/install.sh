#!/bin/sh
# Installs the smart-home agent from the unpacked release (run as root on the Pi):
#   sudo ./install.sh --claim-cert claim.pem --claim-key claim.key --config config.json
# Idempotent: re-running upgrades the program and keeps the device's identity and state.
# Layout (docs/pi.md "Updates"): /opt/smart-home-agent/releases/<version>/ per release and a
# `current` link the unit starts through; the agent's user owns /opt/smart-home-agent so that
# over-the-air updates can unpack a release beside this one and move the link without root.
# The unit starts the agent through launch.sh, installed here once into /usr/local/lib (root's, part
# of no release): it rolls back a version on trial that missed its connect deadline, even one whose
# own code never runs.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
prefix=/opt/smart-home-agent
launcher_dir=/usr/local/lib/smart-home-agent
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

version=$(cat "$here/VERSION")
install -d -m 0755 -o smart-home-agent -g smart-home-agent "$prefix" "$prefix/releases"
# Releases before over-the-air updates had bin/ and lib/ straight under $prefix.
rm -rf "${prefix:?}/bin" "${prefix:?}/lib" "${prefix:?}/docs" "${prefix:?}/VERSION"

# The program: this version's folder is replaced whole, so an upgrade never mixes versions; then
# the link moves by rename (atomic), so the unit starts the old or the new version, never a half.
release=$prefix/releases/$version
incoming=$prefix/releases/.install-$version
replaced=$prefix/releases/.replaced-$version
rm -rf "$incoming" "$replaced"
mkdir "$incoming"
cp -R "$here/bin" "$here/lib" "$here/docs" "$here/VERSION" "$incoming/"
chown -R smart-home-agent:smart-home-agent "$incoming"
if [ -d "$release" ]; then mv "$release" "$replaced"; fi
mv "$incoming" "$release"
rm -rf "$replaced"
ln -sfn "releases/$version" "$prefix/current.new"
chown -h smart-home-agent:smart-home-agent "$prefix/current.new"
mv -T "$prefix/current.new" "$prefix/current"
# A manual install ends any over-the-air trial: the launcher must not roll back what was installed by hand.
rm -f "$prefix/trial"

# The launcher, replaced by rename so a start in between runs the old or the new one whole.
install -d -m 0755 "$launcher_dir"
install -m 0755 "$here/launch.sh" "$launcher_dir/launch.sh.new"
mv -f "$launcher_dir/launch.sh.new" "$launcher_dir/launch.sh"

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
echo "smart-home-agent $version installed in $release; logs: journalctl -u smart-home-agent -f"
