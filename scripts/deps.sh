#!/bin/sh
# Install the Debian packages the build, the tests and `make run` need.
# Idempotent: asks apt only for what is missing, so a second run is instant
# and a machine that already has everything never touches the network.
set -eu
PKGS="gcc make pkg-config libssl-dev openssl check libcsv-dev liblmdb-dev \
lmdb-utils libevent-dev libjansson-dev python3 curl clang libclang-rt-14-dev"
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing (run as root, or install them)" >&2
	exit 1
fi
echo "deps: installing$missing" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
