#!/usr/bin/env bash
# Apply, re-plan (no changes), read back and destroy every stack outside the moto gaps against moto
# server, and assert that ecr's destroy is refused by prevent_destroy (npm run emulate;
# docs/terraform-proof.md). Last line: the verdict and what was left out.
set -euo pipefail
cd "$(dirname "$0")/../.."
npm run --silent emulate
