#!/bin/sh
# deps.sh: install the Debian packages artifact-watcher needs to build, test,
# benchmark and run its demo, when they are missing.  Idempotent: when every
# package is present it prints nothing and changes nothing.  Called by the
# Makefile targets that need it; CI machines and new machines start bare.
set -eu

BUILD="gcc make pkg-config libevent-dev libcurl4-openssl-dev libhiredis-dev
libyaml-dev libcjson-dev libssl-dev libpcre2-dev liblmdb-dev libxml2-dev
librabbitmq-dev libmosquitto-dev libnats-dev librdkafka-dev libsmbclient-dev"
TEST="libcriterion-dev redis-server docker-registry apache2-utils openssl
python3 curl lmdb-utils python3-botocore awscli rabbitmq-server python3-pika
mosquitto mosquitto-clients nats-server openssh-server openssh-client samba
python3-jenkins python3-github python3-google-auth"
BENCH="wrk skopeo valgrind"
FUZZ="clang libclang-rt-14-dev"

case "${1:-test}" in
build)	want="$BUILD" ;;
test)	want="$BUILD $TEST" ;;
bench)	want="$BUILD $TEST $BENCH" ;;
fuzz)	want="$BUILD $FUZZ" ;;
*)	echo "usage: deps.sh [build|test|bench|fuzz]" >&2; exit 2 ;;
esac

# npm packages the integration tests run as real servers, pinned, installed
# into build/node of this tree (never globally): s3rver (a real S3 API),
# verdaccio (a real npm registry; 5.x, which runs on Debian's node 20).
NPM_TEST="s3rver@3.7.1 verdaccio@5.33.0"
npm_install() {
	case "${1:-test}" in test|bench) ;; *) return 0 ;; esac
	root=$(cd "$(dirname "$0")/.." && pwd)
	need=""
	for pkg in $NPM_TEST; do
		[ -e "$root/build/node/node_modules/${pkg%@*}/package.json" ] ||
		    need="$need $pkg"
	done
	[ -z "$need" ] && return 0
	if ! command -v npm >/dev/null 2>&1; then
		echo "deps.sh: installing: nodejs npm" >&2
		$SUDO apt-get update -qq >/dev/null
		$SUDO apt-get install -y -qq --no-install-recommends nodejs npm \
		    >/dev/null
	fi
	echo "deps.sh: npm installing:$need" >&2
	mkdir -p "$root/build/node"
	# All of them at once: an install of some prunes the others.
	# shellcheck disable=SC2086
	npm install --no-audit --no-fund --no-save --prefix "$root/build/node" \
	    $NPM_TEST >/dev/null 2>&1
}

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

missing=""
for p in $want; do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$s" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
if [ -z "$missing" ]; then
	npm_install "${1:-test}"
	exit 0
fi

echo "deps.sh: installing:$missing" >&2
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
# The Debian packages start their own services on install; the tests start
# their own instances on free ports, so stop the system ones where we can.
for svc in redis-server docker-registry rabbitmq-server mosquitto \
    nats-server ssh smbd nmbd samba-ad-dc; do
	if command -v systemctl >/dev/null 2>&1; then
		$SUDO systemctl stop "$svc" >/dev/null 2>&1 || true
	fi
done
npm_install "${1:-test}"
exit 0
