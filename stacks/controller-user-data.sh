#!/bin/bash
# First boot of the smart-home controller host (Amazon Linux 2023, arm64). Rendered by
# stacks/ec2.ts (double-brace placeholders); cloud-init runs it once, as root.
set -euo pipefail
exec > >(tee -a /var/log/controller-bootstrap.log) 2>&1

SWAP_MIB={{swap_mib}}
REPOSITORY_URL="{{repository_url}}"

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

# 3. The controller's settings. The container itself is started by controller/deploy/redeploy.sh,
#    which the ec2 stack's null_resource runs over EC2 Instance Connect (pull, run, health check,
#    rollback); it reads run.conf for how to run it.
install -d -m 755 /etc/controller
cat > /etc/controller/controller.env <<ENV
AWS_REGION={{region}}
SMART_HOME_ENV={{environment}}
CONTROLLER_SECRET_ID={{secret_id}}
CONTROLLER_API_TOKEN_SECRET_ID={{api_token_secret_id}}
DEVICE_TABLE_NAME={{device_table}}
TOPIC_ROOT={{topic_root}}
PORT={{controller_port}}
ENV
chmod 600 /etc/controller/controller.env
cat > /etc/controller/run.conf <<CONF
CONTAINER_NAME={{container_name}}
CONTROLLER_PORT={{controller_port}}
LOG_REGION={{region}}
LOG_GROUP={{log_group}}
CONF
chmod 644 /etc/controller/run.conf
