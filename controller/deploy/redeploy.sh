#!/bin/bash
# Redeploys the controller container on its host (run as root over SSH; the ec2 stack's
# null_resource pipes this file to `sudo -n bash -s -- <image>` through the EC2 Instance Connect
# Endpoint, see controller/deploy/ssh-redeploy.sh). The design document's steps, made safe:
#   1. one deploy at a time (a lock; a second deploy is refused, exit 75)
#   2. pull the new image while the old container keeps running; a failed pull changes nothing
#   3. stop the old container (SIGTERM: the controller drains in-flight commands) and keep it aside
#   4. run the new one with its restart policy and environment
#   5. wait for its HEALTHCHECK (GET /healthz: 200 only when MQTT is connected)
#   6. healthy: remove the old container; not healthy in time: remove the new one and start the old
# Every step logs one line: `<time> redeploy step=<step> ...`.
# Usage: redeploy.sh <repository-url>:<tag>
set -euo pipefail

CONFIG_DIR="${CONTROLLER_CONFIG_DIR:-/etc/controller}"
LOCK_FILE="${CONTROLLER_REDEPLOY_LOCK:-/run/lock/controller-redeploy.lock}"
HEALTH_TIMEOUT_SECONDS="${CONTROLLER_HEALTH_TIMEOUT_SECONDS:-120}"
HEALTH_POLL_SECONDS="${CONTROLLER_HEALTH_POLL_SECONDS:-2}"
# User data configures the ECR credential helper for root; sudo may keep the caller's HOME.
export DOCKER_CONFIG="${DOCKER_CONFIG:-/root/.docker}"
# The controller drains for up to 10 s (SHUTDOWN_GRACE_MS); give it a little more.
STOP_TIMEOUT_SECONDS=15

log() { printf '%s redeploy %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }
fail() { log "step=$1 result=failed exit=$2 reason=\"$3\""; exit "$2"; }

[ $# -eq 1 ] || fail usage 64 "usage: redeploy.sh <repository-url>:<tag>"
IMAGE="$1"
# <registry>/<repository>:<tag>, the tag as ECR and the ec2 stack's variable allow; never latest.
[[ "$IMAGE" =~ ^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || fail usage 64 "not an image reference: $IMAGE"
[[ "$IMAGE" != *:latest ]] || fail usage 64 "refusing the mutable tag latest"

# run.conf (written by user data): CONTAINER_NAME, CONTROLLER_PORT, LOG_REGION, LOG_GROUP.
[ -r "$CONFIG_DIR/run.conf" ] || fail config 78 "$CONFIG_DIR/run.conf is missing (user data not finished?)"
# shellcheck source=/dev/null
. "$CONFIG_DIR/run.conf"
: "${CONTAINER_NAME:?} ${CONTROLLER_PORT:?} ${LOG_REGION:?} ${LOG_GROUP:?}"
PREVIOUS_NAME="$CONTAINER_NAME-previous"

# 1. The lock: held until this process exits, released by the kernel even if it is killed.
mkdir -p "$(dirname "$LOCK_FILE")"
exec 9>"$LOCK_FILE"
flock -n 9 || fail lock 75 "another redeploy holds $LOCK_FILE"
log "step=lock result=acquired image=$IMAGE"

exists() { docker inspect -f '{{.Id}}' "$1" >/dev/null 2>&1; }
image_of() { docker inspect -f '{{.Config.Image}}' "$1"; }
health_of() { docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$1"; }

# Docker comes up with user data on a fresh instance.
for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 5; done
docker info >/dev/null 2>&1 || fail docker 69 "docker is not running"

# A deploy that was killed between its steps leaves the old container aside: put it back.
if exists "$PREVIOUS_NAME"; then
  if exists "$CONTAINER_NAME"; then
    docker rm -f "$CONTAINER_NAME" >/dev/null
  fi
  docker rename "$PREVIOUS_NAME" "$CONTAINER_NAME"
  docker start "$CONTAINER_NAME" >/dev/null
  log "step=recover result=restored-previous-container"
fi

previous_image=""
if exists "$CONTAINER_NAME"; then previous_image="$(image_of "$CONTAINER_NAME")"; fi
log "step=current image=${previous_image:-none}"
if [ "$previous_image" = "$IMAGE" ] && [ "$(health_of "$CONTAINER_NAME")" = healthy ]; then
  log "step=done result=unchanged image=$IMAGE"
  exit 0
fi

# 2. Pull first: if it fails, the running container is untouched.
if ! docker pull --quiet "$IMAGE" >/dev/null; then
  fail pull 1 "could not pull $IMAGE; ${previous_image:-no container} keeps running"
fi
log "step=pull result=ok image=$IMAGE"

rollback() {
  local reason="$1"
  docker logs --tail 20 "$CONTAINER_NAME" 2>&1 | sed 's/^/  new container: /' || true
  docker rm -f "$CONTAINER_NAME" >/dev/null 2>&1 || true
  if [ -n "$previous_image" ]; then
    docker rename "$PREVIOUS_NAME" "$CONTAINER_NAME"
    docker start "$CONTAINER_NAME" >/dev/null
    log "step=rollback result=restored image=$previous_image"
  else
    log "step=rollback result=nothing-to-restore"
  fi
  fail health 1 "$reason; rolled back to ${previous_image:-nothing}"
}

# 3. Stop the old container (kept aside for a rollback).
if [ -n "$previous_image" ]; then
  docker rename "$CONTAINER_NAME" "$PREVIOUS_NAME"
  docker stop --time "$STOP_TIMEOUT_SECONDS" "$PREVIOUS_NAME" >/dev/null
  log "step=stop result=ok image=$previous_image"
fi

# 4. Run the new one: restart policy, settings from controller.env, read-only root, no capabilities.
if ! docker run --detach --name "$CONTAINER_NAME" \
  --restart unless-stopped \
  --env-file "$CONFIG_DIR/controller.env" \
  --publish "$CONTROLLER_PORT:$CONTROLLER_PORT" \
  --read-only --tmpfs /tmp:rw,noexec,nosuid,size=16m \
  --cap-drop ALL --security-opt no-new-privileges \
  --memory 256m \
  --log-driver awslogs \
  --log-opt "awslogs-region=$LOG_REGION" \
  --log-opt "awslogs-group=$LOG_GROUP" \
  --log-opt "awslogs-stream=$(hostname)" \
  "$IMAGE" >/dev/null; then
  rollback "docker run failed"
fi
log "step=run result=started image=$IMAGE"

# 5. Wait for the image's HEALTHCHECK.
waited=0
while :; do
  status="$(health_of "$CONTAINER_NAME" 2>/dev/null || echo missing)"
  [ "$status" = healthy ] && break
  if [ "$status" = unhealthy ] || [ "$status" = missing ] || [ "$waited" -ge "$HEALTH_TIMEOUT_SECONDS" ]; then
    rollback "new container is $status after ${waited}s"
  fi
  sleep "$HEALTH_POLL_SECONDS"
  waited=$((waited + HEALTH_POLL_SECONDS))
done
log "step=health result=healthy seconds=$waited"

# 6. Keep the new one; the old container goes, and the host records what runs.
if [ -n "$previous_image" ]; then docker rm "$PREVIOUS_NAME" >/dev/null; fi
printf '%s\n' "$IMAGE" > "$CONFIG_DIR/image.tmp" && mv "$CONFIG_DIR/image.tmp" "$CONFIG_DIR/image"
log "step=done result=deployed image=$IMAGE previous=${previous_image:-none}"
