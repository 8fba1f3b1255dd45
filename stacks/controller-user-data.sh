#!/bin/bash
# First boot of the smart-home controller host (Amazon Linux 2023, arm64). Rendered by
# stacks/ec2.ts (double-brace placeholders); cloud-init runs it once, as root.
set -euo pipefail
exec > >(tee -a /var/log/controller-bootstrap.log) 2>&1

SWAP_MIB={{swap_mib}}
REPOSITORY_URL="{{repository_url}}"
IMAGE_TAG="{{image_tag}}"

# 1. Swap before anything else: 512 MiB of RAM is too little for dnf and Docker together.
if [ "$SWAP_MIB" -gt 0 ] && ! swapon --show=NAME --noheadings | grep -qx /swapfile; then
  dd if=/dev/zero of=/swapfile bs=1M count="$SWAP_MIB" status=none
  chmod 600 /swapfile
  mkswap /swapfile
  swapon /swapfile
  grep -q '^/swapfile ' /etc/fstab || echo '/swapfile none swap sw 0 0' >> /etc/fstab
fi

# 2. Docker, and the ECR credential helper: pulls authenticate with the instance role, with no
#    docker login and no 12-hour token to refresh.
#    The Elastic IP may be associated a few seconds after boot, so the first install retries.
for attempt in $(seq 1 30); do
  dnf install -y docker amazon-ecr-credential-helper && break
  [ "$attempt" -lt 30 ] || exit 1
  sleep 10
done
install -d -m 700 /root/.docker
printf '{"credHelpers":{"%s":"ecr-login"}}\n' "${REPOSITORY_URL%%/*}" > /root/.docker/config.json
chmod 600 /root/.docker/config.json
systemctl enable --now docker

# 3. The controller's settings, and the image it runs. CD replaces the tag file on each deploy.
install -d -m 755 /etc/controller
cat > /etc/controller/controller.env <<ENV
AWS_REGION={{region}}
SMART_HOME_ENV={{environment}}
CONTROLLER_SECRET_ID={{secret_id}}
PORT={{controller_port}}
ENV
chmod 600 /etc/controller/controller.env
[ -s /etc/controller/image ] || echo "$REPOSITORY_URL:$IMAGE_TAG" > /etc/controller/image

cat > /usr/local/bin/controller-run <<'RUN'
#!/bin/bash
# (Re)starts the controller container from the image named in /etc/controller/image.
set -euo pipefail
image="$(cat /etc/controller/image)"
docker pull "$image"
docker rm -f {{container_name}} >/dev/null 2>&1 || true
docker run -d --name {{container_name}} \
  --restart unless-stopped \
  --env-file /etc/controller/controller.env \
  -p {{controller_port}}:{{controller_port}} \
  --read-only --tmpfs /tmp:rw,noexec,nosuid,size=16m \
  --cap-drop ALL --security-opt no-new-privileges \
  --memory 256m \
  --log-driver awslogs \
  --log-opt awslogs-region={{region}} \
  --log-opt awslogs-group={{log_group}} \
  --log-opt awslogs-stream="$(hostname)" \
  "$image"
RUN
chmod 755 /usr/local/bin/controller-run

# 4. Start it. Before CD has pushed a first image the pull fails; the host is still ready for CD.
if ! /usr/local/bin/controller-run; then
  echo "controller image $(cat /etc/controller/image) is not in ECR yet; CD will deploy one"
fi
