#!/usr/bin/env bash
# Terraform, Dockerfile, deploy workflow and container entry point checks (no terraform or
# docker needed): HCL parsed with @cdktf/hcl2json, see tests/terraform/test_terraform.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec "${PYTHON:-/usr/bin/python3}" -m pytest -q -p no:cacheprovider tests/terraform
