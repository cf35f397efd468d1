#!/bin/sh
# deps.sh -- install the Debian packages RPC Workbench needs, only those missing.
# Usage: mk/deps.sh build|run|test
#   build: libraries and tools to compile; run: also what the workbench and the lessons
#   run (etcd, nc, curl, dig for Consul's DNS, ss, nft for the lab's packet loss; Go with
#   protoc-gen-go, grpc-go and etcd's client for the tutorials' own Go code; python3-zeroconf
#   for lesson 22's mdnsfind.py);
#   test: also the real peers the tests talk to (mDNS: python3-zeroconf, hashicorp/mdns, Avahi)
#   and what `make bench` measures with (h2load, tcpdump, tshark, perf for syscall counts)
set -eu

build_pkgs="gcc make pkg-config libc6-dev libncurses-dev libreadline-dev libcjson-dev
libcurl4-openssl-dev libprotobuf-c-dev protobuf-c-compiler libprotobuf-dev libnghttp2-dev libcriterion-dev
libsqlite3-dev libcrypt-dev libssl-dev zlib1g-dev gettext
libldns-dev libpcap-dev libhttp-parser-dev"
run_pkgs="etcd-server etcd-client netcat-openbsd curl bind9-dnsutils protobuf-compiler iproute2
golang-go golang-goprotobuf-dev golang-google-grpc-dev golang-etcd-server-dev nftables python3-zeroconf"
test_pkgs="netcat-openbsd clang libclang-rt-14-dev procps
python3-grpcio golang-google-protobuf-dev nghttp2-client tshark tmux curl sqlite3 bind9-dnsutils
python3-zeroconf golang-github-hashicorp-mdns-dev avahi-daemon avahi-utils dbus tcpdump time linux-perf"

case "${1:-build}" in
  build) want="$build_pkgs" ;;
  run)   want="$build_pkgs $run_pkgs" ;;
  test)  want="$build_pkgs $run_pkgs $test_pkgs" ;;
  *) echo "usage: $0 build|run|test" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

echo "RPC Workbench needs these Debian packages, which are not installed:$missing"
if [ "$(id -u)" = 0 ]; then
  run=""
elif command -v sudo >/dev/null 2>&1; then
  run="sudo"
else
  echo "Cannot install them: not root and no sudo. Run this as root, then try again:" >&2
  echo "  apt-get update && apt-get install -y$missing" >&2
  exit 1
fi
echo "Installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# A stale package list makes installs fail; refresh it once if it is older than a day.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -n 1)" ]; then
  $run apt-get update -q || true
fi
if ! $run apt-get install -y -q --no-install-recommends $missing; then
  echo "Installing failed. The command was:" >&2
  echo "  ${run:+$run }apt-get install -y$missing" >&2
  exit 1
fi
