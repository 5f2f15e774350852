#!/usr/bin/env bash
# Sets up what is missing, and nothing else: Node check, Debian packages the appliance needs (SoftHSM2 for the key
# store, PyKMIP and Barbican for the interoperability tests, the openssl command as the tests' independent reader of
# certificates and PKCS#12 containers), npm dependencies, and the build. Safe to run again:
# each step is skipped when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*"; }

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  say "Node.js 20 or newer is required (found $(node --version 2>/dev/null || echo none))." >&2
  exit 1
fi

# Debian packages: installed with apt-get when absent and we are root, otherwise we name the command to run.
debian_packages=(softhsm2 python3-pykmip python3-barbican openssl)
missing=()
for pkg in "${debian_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "${KMIPD_SKIP_APT:-0}" = 1 ]; then
    say "KMIPD_SKIP_APT=1: not installing ${missing[*]} (tests that need them will say so)."
  elif ! command -v apt-get >/dev/null 2>&1; then
    say "not a Debian system: install ${missing[*]} (or their equivalents) yourself."
  elif [ "$(id -u)" -eq 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    say "missing Debian packages: ${missing[*]}. Run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

# npm dependencies: reinstalled only when package-lock.json changed since the last install.
stamp=node_modules/.kmipd-setup-stamp
lock_sum=$(sha256sum package-lock.json package.json | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_sum" ]; then
  say "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" >"$stamp"
fi

say "building"
npm run --silent build
say "ready"
