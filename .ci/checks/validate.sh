#!/usr/bin/env bash
# Every synthesized stack through terraform init + validate with the real aws provider
# (npm run validate; docs/terraform-proof.md). Last line: "N of 9 stacks valid ...".
set -euo pipefail
cd "$(dirname "$0")/../.."
npm run --silent validate
