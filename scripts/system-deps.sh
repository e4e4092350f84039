#!/usr/bin/env bash
# The Debian packages the tests need: Chromium for browser tests, WeasyPrint's libraries
# (libharfbuzz-subset0 matters: without it every PDF renders about 4x slower), poppler
# for reading PDFs back, and fonts. Installs them when run as root and they are missing;
# otherwise stops with the exact command to run.
set -euo pipefail

PACKAGES=(chromium libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils fonts-dejavu-core fonts-liberation2)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  echo "Installing Debian packages: ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "Missing Debian packages: ${missing[*]}" >&2
  echo "Install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
