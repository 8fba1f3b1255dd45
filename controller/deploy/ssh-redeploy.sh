#!/bin/bash
# Runs redeploy.sh on the controller instance over SSH through the EC2 Instance Connect Endpoint,
# with a one-time key: the local-exec of the ec2 stack's null_resource (modules/controller-redeploy.ts).
#   1. a fresh ed25519 key in a private temp directory (removed on exit)
#   2. `aws ec2-instance-connect send-ssh-public-key`: the instance accepts it for 60 seconds
#   3. ssh with `aws ec2-instance-connect open-tunnel` as ProxyCommand (port 22 is never open to
#      the internet; the tunnel is authorized by IAM, ec2-instance-connect:OpenTunnel)
#   4. the remote side runs `sudo -n bash -s -- <image>` with redeploy.sh on its stdin
# A connection failure (ssh exit 255: instance still booting, key expired) is retried with a new
# key; the remote script's own exit code is final.
# Environment: INSTANCE_ID, IMAGE (<repository-url>:<tag>), REDEPLOY_SCRIPT (path of redeploy.sh),
# AWS_REGION; OS_USER (default ec2-user); CONNECT_ATTEMPTS (default 20), RETRY_SECONDS (default 15).
set -euo pipefail
: "${INSTANCE_ID:?} ${IMAGE:?} ${REDEPLOY_SCRIPT:?}"
OS_USER="${OS_USER:-ec2-user}"
attempts="${CONNECT_ATTEMPTS:-20}"
log() { printf '%s ssh-redeploy %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
ssh-keygen -q -t ed25519 -N '' -C "redeploy-$INSTANCE_ID" -f "$work/key"

for attempt in $(seq 1 "$attempts"); do
  aws ec2-instance-connect send-ssh-public-key --instance-id "$INSTANCE_ID" --instance-os-user "$OS_USER" \
    --ssh-public-key "file://$work/key.pub" >/dev/null
  log "step=key-sent instance=$INSTANCE_ID attempt=$attempt"
  status=0
  # The endpoint is IAM-authenticated and reaches the instance's private address; the host key is
  # new on every instance, so it is accepted on first use into a known_hosts of this run only.
  ssh -i "$work/key" -o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes \
    -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile="$work/known_hosts" \
    -o ConnectTimeout=20 -o ServerAliveInterval=15 -o LogLevel=ERROR \
    -o ProxyCommand="aws ec2-instance-connect open-tunnel --instance-id $INSTANCE_ID" \
    "$OS_USER@$INSTANCE_ID" "sudo -n bash -s -- $IMAGE" < "$REDEPLOY_SCRIPT" || status=$?
  if [ "$status" -ne 255 ]; then
    log "step=done instance=$INSTANCE_ID image=$IMAGE exit=$status"
    exit "$status"
  fi
  log "step=connect result=failed attempt=$attempt/$attempts"
  sleep "${RETRY_SECONDS:-15}"
done
log "step=connect result=gave-up instance=$INSTANCE_ID"
exit 255
