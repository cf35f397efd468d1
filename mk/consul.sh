#!/bin/sh
# consul.sh -- provides a consul binary where Debian 12 has none: Debian 11 (bullseye)
# packages consul 1.8.7, a real agent that runs on Debian 12. It is fetched with apt-get
# through a private sources file and private state (the machine's apt set-up is not
# touched), unpacked with dpkg -x into build/tools/consul, and linked as BIN/consul, where
# the workbench, the lessons and the tests look after PATH. A consul on PATH wins.
# Usage: mk/consul.sh BIN
set -u
BIN=${1:-bin}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOOLS=$ROOT/build/tools
DEST=$TOOLS/consul
ONPATH=$(command -v consul 2>/dev/null || true)

if [ -n "$ONPATH" ] && [ "$ONPATH" != "$(cd "$BIN" 2>/dev/null && pwd)/consul" ]; then
    rm -f "$BIN/consul" # a link of ours must not hide it from the lessons
    exit 0
fi
if [ ! -x "$DEST/usr/bin/consul" ]; then
    APT=$TOOLS/apt
    mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/etc/preferences.d"
    mirror=$(sed -n 's/^URIs: *\(http[^ ]*\/debian\)\/*$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
    [ -n "$mirror" ] || mirror=$(sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\(http[^ ]*\/debian\)\/\{0,1\} .*/\2/p' /etc/apt/sources.list 2>/dev/null | head -n 1)
    [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bullseye main" >"$APT/etc/sources.list"
    opts="-q -o Dir::Etc::sourcelist=$APT/etc/sources.list -o Dir::Etc::sourceparts=- \
-o Dir::Etc::preferencesparts=$APT/etc/preferences.d -o Dir::State::Lists=$APT/lists \
-o Dir::Cache=$APT/cache -o APT::Sandbox::User=root"
    echo "Fetching consul: Debian 12 has no package; Debian 11's (bullseye, $mirror) goes into build/tools/consul"
    # shellcheck disable=SC2086
    if ! { apt-get $opts update >"$APT/log" 2>&1 &&
           (cd "$APT" && rm -f consul_*.deb && apt-get $opts download consul >>"$APT/log" 2>&1) &&
           rm -rf "$DEST" && dpkg -x "$APT"/consul_*.deb "$DEST"; } ||
       ! "$DEST/usr/bin/consul" version >/dev/null 2>&1; then
        tail -n 5 "$APT/log" >&2
        echo "Could not fetch consul; the Consul parts will be skipped. By hand:" >&2
        echo "  echo 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bullseye main' >/tmp/bullseye.list" >&2
        echo "  mkdir -p /tmp/bl/partial" >&2
        echo "  apt-get -o Dir::Etc::sourcelist=/tmp/bullseye.list -o Dir::Etc::sourceparts=- -o Dir::State::Lists=/tmp/bl update" >&2
        echo "  apt-get -o Dir::Etc::sourcelist=/tmp/bullseye.list -o Dir::Etc::sourceparts=- -o Dir::State::Lists=/tmp/bl download consul" >&2
        echo "  dpkg -x consul_*.deb $DEST" >&2
        exit 0
    fi
    rm -rf "$APT"
fi
mkdir -p "$BIN"
ln -sf "$DEST/usr/bin/consul" "$BIN/consul"
