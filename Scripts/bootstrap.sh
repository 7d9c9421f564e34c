#!/usr/bin/env bash
# Installs the Debian packages Trellis needs to build and test: RocksDB, libsodium, pkg-config (and curl, which the
# end-to-end tests use to query nodes, iproute2, whose `ip netns` the multi-host test uses when run as root,
# chromium, the headless browser ExplorerEndToEndTests loads the web explorer in, and python3-cryptography, with
# which ConsortiumEndToEndTests runs docs/examples/sign_request.py against a real node).
# Idempotent: does nothing when they are already present. Exits non-zero with a clear message when it cannot.
set -euo pipefail

packages=(librocksdb-dev libsodium-dev pkg-config curl iproute2 chromium python3-cryptography)

missing=()
for p in ${packages[@]+"${packages[@]}"}; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "bootstrap: all dependencies present (${packages[*]})"
  exit 0
fi

echo "bootstrap: installing ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "bootstrap: apt-get not found; install these packages by hand: ${missing[*]}" >&2
  exit 1
fi
# Empty when root: expanded as ${sudo_cmd[@]+"${sudo_cmd[@]}"} (an empty "${sudo_cmd[@]}" is an unbound variable
# under set -u in bash before 4.4).
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo_cmd=(sudo)
  else
    echo "bootstrap: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
if ! ${sudo_cmd[@]+"${sudo_cmd[@]}"} apt-get update -qq; then
  echo "bootstrap: 'apt-get update' failed; check the network or the package sources" >&2
  exit 1
fi
if ! ${sudo_cmd[@]+"${sudo_cmd[@]}"} apt-get install -y -qq ${missing[@]+"${missing[@]}"}; then
  echo "bootstrap: 'apt-get install ${missing[*]}' failed" >&2
  exit 1
fi
for lib in rocksdb libsodium; do
  if ! pkg-config --exists "$lib"; then
    echo "bootstrap: pkg-config cannot find '$lib' after installing; check PKG_CONFIG_PATH" >&2
    exit 1
  fi
done
echo "bootstrap: done"
