#!/usr/bin/env bash
# Stop the services started by start.sh, by the PIDs it recorded (each is also the process group
# of the service, so helper processes go too). Never matches processes by name.
#
#   scripts/services/stop.sh [--purge]     --purge also deletes the services' data directories
set -uo pipefail
ROOT=${FLYTE_SERVICES_ROOT:-/tmp/flyte-services}
purge=0
for arg in "$@"; do
  case "$arg" in
    --purge) purge=1 ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "stop.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done
[ -d "$ROOT/pids" ] || exit 0

for pidfile in "$ROOT"/pids/*.pid; do
  [ -f "$pidfile" ] || continue
  name=$(basename "$pidfile" .pid)
  pid=$(cat "$pidfile")
  if ! [[ "$pid" =~ ^[0-9]+$ ]] || ! kill -0 "$pid" 2>/dev/null; then
    rm -f "$pidfile"
    continue
  fi
  # The service is the leader of its own process group (started with setsid): signal the group.
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$pidfile"
  echo "[stop] $name ($pid)" >&2
done
rm -f "$ROOT/env" "$ROOT/env.docker"
# dockerd leaves its network namespace mounted under its exec root.
if mountpoint -q "$ROOT/docker/exec/netns/default" 2>/dev/null; then
  umount "$ROOT/docker/exec/netns/default" 2>/dev/null || true
fi
if [ $purge = 1 ]; then
  rm -rf "$ROOT/data"
fi
exit 0
