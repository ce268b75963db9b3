#!/usr/bin/env bash
# Build a local base image (Debian bookworm + Python 3.11) from Debian's packages, for machines
# that reach no image registry. Production builds pass their usual base instead
# (BASE_IMAGE=docker.io/library/python:3.11-slim-bookworm).
#   deploy/images/build-base.sh [IMAGE]     default localhost/debian-python:bookworm
# Needs: podman, mmdebstrap (Debian packages). Idempotent: skips when the image exists.
set -euo pipefail
IMAGE="${1:-localhost/debian-python:bookworm}"
if podman image exists "$IMAGE"; then
  echo "build-base: $IMAGE already exists"; exit 0
fi
# The apt mirror this machine uses (deb822 or one-line sources), first Debian one found.
MIRROR="$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -m1 '/debian$' || true)"
if [[ -z "$MIRROR" ]]; then
  MIRROR="$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}' | grep -m1 '/debian/*$' || true)"
fi
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
echo "build-base: mmdebstrap bookworm from $MIRROR -> $IMAGE"
mmdebstrap --variant=apt --include=python3,python3-venv,ca-certificates,tzdata \
  --aptopt='Acquire::Retries "3"' \
  --customize-hook='rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*' \
  bookworm - "deb $MIRROR bookworm main" "deb $MIRROR bookworm-updates main" \
  | podman import --change 'CMD ["/usr/bin/python3"]' - "$IMAGE"
