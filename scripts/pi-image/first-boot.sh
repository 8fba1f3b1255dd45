#!/bin/sh
# First boot of a smart-home Raspberry Pi, run once as root by cloud-init (runcmd in user-data,
# written by npm run pi:image):
#   first-boot.sh <boot partition mount point> <root prefix>
# The root prefix is / on a Pi; a test passes a scratch folder.
#
# 1. Moves the batch claim certificate and key (and the agent config and CA) off the FAT boot
#    partition, which every local user can read, into a root-only folder (0700, files 0600):
#    copy, compare, sync, and only then delete them from the boot partition.
# 2. Unpacks the agent release and runs its install.sh, which puts the claim where the agent reads
#    it (0600, owned by the agent's user) and enables the systemd unit.
# 3. Deletes the staging folder and the release from the boot partition.
# Safe to re-run after a failure: what was already moved off the boot partition is taken from the
# staging folder.
set -eu

if [ $# -ne 2 ]; then
  echo "usage: first-boot.sh <boot partition mount point> <root prefix>" >&2
  exit 2
fi
boot=$1/smart-home
root=${2%/}
staging=$root/var/lib/smart-home-agent-first-boot
agent_etc=$root/etc/smart-home-agent
umask 077

say() { echo "smart-home first boot: $*" >&2; }

mkdir -p "$staging"
chmod 0700 "$staging"

for name in claim.pem claim.key config.json ca.pem; do
  if [ -f "$boot/$name" ]; then
    cp "$boot/$name" "$staging/$name.partial"
    chmod 0600 "$staging/$name.partial"
    if ! cmp -s "$boot/$name" "$staging/$name.partial"; then
      say "the copy of $name differs from the boot partition's; nothing deleted"
      exit 1
    fi
    mv "$staging/$name.partial" "$staging/$name"
  fi
  if [ ! -f "$staging/$name" ]; then
    say "$name is neither on the boot partition ($boot) nor in $staging: re-flash the card"
    exit 1
  fi
done
sync
for name in claim.pem claim.key config.json ca.pem; do
  rm -f "$boot/$name"
done
sync
say "claim credentials moved off the boot partition"

mkdir -p "$agent_etc"
chmod 0755 "$agent_etc"
cp "$staging/ca.pem" "$agent_etc/ca.pem"
chmod 0644 "$agent_etc/ca.pem"

release=$staging/release
rm -rf "$release"
mkdir "$release"
tar -xzf "$boot/smart-home-agent.tar.gz" -C "$release"
set -- "$release"/smart-home-agent-*/install.sh
if [ $# -ne 1 ] || [ ! -f "$1" ]; then
  say "the release has no single smart-home-agent-<version>/install.sh"
  exit 1
fi
sh "$1" --claim-cert "$staging/claim.pem" --claim-key "$staging/claim.key" --config "$staging/config.json"

rm -rf "$staging"
rm -f "$boot/smart-home-agent.tar.gz"
sync
say "agent installed"
