#!/bin/sh
# demo.sh: the main job of artifact-watcher in one minute, on this machine.
#
# Starts the Debian docker-registry on a free loopback port with its storage
# in a temporary directory, pushes a few tags through the registry HTTP API,
# runs the watcher on it with a Stdout sink and the embedded LMDB store,
# pushes a new tag, and shows the CloudEvent the watcher prints for it.
# Everything it starts is stopped and its directory removed on exit, also
# on Ctrl-C.  Run through `make demo`, which installs what is missing first.
set -eu

cd "$(dirname "$0")/.."
PYTHON=/usr/bin/python3
REGISTRY_BIN=/usr/bin/docker-registry
WATCHER=./artifact-watcher
REPO=demo/hello
WAIT_S=30

say() {
	printf '\n==> %s\n' "$*"
}

die() {
	printf 'demo: %s\n' "$*" >&2
	exit 1
}

[ -x "$WATCHER" ] || die "$WATCHER is missing: run 'make demo'"
[ -x "$REGISTRY_BIN" ] || die "$REGISTRY_BIN is missing: run 'make demo'"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/aw-demo.XXXXXX")
registry_pid=""
watcher_pid=""

cleanup() {
	status=$?
	trap - EXIT INT TERM
	if [ -n "$watcher_pid" ]; then
		kill -TERM "$watcher_pid" 2>/dev/null || true
		wait "$watcher_pid" 2>/dev/null || true
	fi
	if [ -n "$registry_pid" ]; then
		kill -TERM "$registry_pid" 2>/dev/null || true
		wait "$registry_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for SECONDS COMMAND...: retry COMMAND until it succeeds or time ends.
wait_for() {
	limit=$(($(date +%s) + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$limit" ] || return 1
		sleep 0.2
	done
}

push() {
	"$PYTHON" tests/integration/push.py "$url" "$@"
}

free_port() {
	"$PYTHON" -c 'import socket; s = socket.socket(); \
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port=$(free_port)
url="http://127.0.0.1:$port"

say "Starting docker-registry on $url (storage in $tmp/registry)"
mkdir -p "$tmp/registry"
cat >"$tmp/registry.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $tmp/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  secret: demo-only
EOF
"$REGISTRY_BIN" serve "$tmp/registry.yml" >"$tmp/registry.log" 2>&1 &
registry_pid=$!
wait_for 10 curl -fs "$url/v2/" || die "the registry did not start"

say "Pushing $REPO:1.0 and $REPO:1.1 through the registry API"
for tag in 1.0 1.1; do
	printf '    %s:%s  %s\n' "$REPO" "$tag" "$(push "$REPO:$tag")"
done

# write_config: the watcher's config, with the embedded store.
write_config() {
	cat >"$tmp/watcher.yaml" <<EOF
store:
  type: lmdb
  path: $tmp/state
connectors:
  - connector:
      identifier: local
      type: DockerRegistry
      spec:
        dockerRegistryUrl: $url
        providerType: Other
        auth:
          type: Anonymous
sources:
  - identifier: hello
    type: DockerRegistry
    spec:
      connectorRef: local
      imagePath: $REPO
    interval: 2s
    fetchLabels: true
sinks:
  - identifier: console
    type: Stdout
EOF
}

# start_watcher: run it; succeed once its first poll is committed, fail if
# it exits or takes longer than WAIT_S.
start_watcher() {
	"$WATCHER" run -c "$tmp/watcher.yaml" >"$tmp/events.jsonl" \
	    2>"$tmp/watcher.log" &
	watcher_pid=$!
	limit=$(($(date +%s) + WAIT_S))
	until grep -q 'msg="poll committed" source=hello' "$tmp/watcher.log"
	do
		if ! kill -0 "$watcher_pid" 2>/dev/null ||
		    [ "$(date +%s)" -ge "$limit" ]; then
			kill -TERM "$watcher_pid" 2>/dev/null || true
			wait "$watcher_pid" 2>/dev/null || true
			watcher_pid=""
			return 1
		fi
		sleep 0.2
	done
}

say "Writing the watcher's config ($tmp/watcher.yaml)"
write_config
sed 's/^/    /' "$tmp/watcher.yaml"
"$WATCHER" check -c "$tmp/watcher.yaml" | sed 's/^/    /'

say "Starting the watcher; its first poll records 1.0 and 1.1 silently"
start_watcher || {
	cat "$tmp/watcher.log" >&2
	die "the watcher did not finish its first poll"
}
grep 'source=hello' "$tmp/watcher.log" | sed 's/^/    /'
printf '    events so far: %s\n' "$(wc -l <"$tmp/events.jsonl")"

say "Pushing a new tag, $REPO:1.2, with a version label"
printf '    %s:1.2  %s\n' "$REPO" \
    "$(push "$REPO:1.2" org.opencontainers.image.version=1.2)"

say "Waiting for the watcher to notice (interval 2s)"
wait_for "$WAIT_S" grep -q . "$tmp/events.jsonl" || {
	cat "$tmp/watcher.log" >&2
	die "no event within ${WAIT_S}s"
}

say "The event the Stdout sink printed (a CloudEvent, DESIGN section 4):"
head -n 1 "$tmp/events.jsonl" | "$PYTHON" -m json.tool | sed 's/^/    /'

say "Stopping the watcher (SIGTERM) and the registry; removing $tmp"
kill -TERM "$watcher_pid"
code=0
wait "$watcher_pid" || code=$?
watcher_pid=""
[ "$code" -eq 0 ] || die "the watcher exited $code"
printf '    watcher exited 0. Done.\n'
