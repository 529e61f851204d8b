# Sourced (not run) by the SCIM conformance scripts, from the repository root, under
# `set -euo pipefail`: starts a live Gatehouse on a fresh SQLite database in a temporary
# folder, with account `acme`, a directory administrator admin@example.org, and the account's
# SCIM provisioning credential as `$token` (what an identity provider is given). Uses the debug
# binary the test run built (built here when missing), or $GATEHOUSE_BINARY.
#
#   live_server_start NAME   sets $work (temporary folder, removed on exit), $port, $token,
#                            $scim_url (http://127.0.0.1:$port/scim/v2); the server is
#                            stopped on exit and its log is $work/serve.log.

live_server_binary=${GATEHOUSE_BINARY:-target/debug/gatehouse}
live_server_pid=

live_server_cleanup() {
  if [ -n "$live_server_pid" ]; then
    kill "$live_server_pid" 2>/dev/null || true
    wait "$live_server_pid" 2>/dev/null || true
  fi
  [ -z "${work:-}" ] || rm -rf "$work"
}

live_server_start() {
  local name=$1
  [ -x "$live_server_binary" ] || cargo build -p gatehouse
  work=$(mktemp -d "/tmp/gatehouse-$name.XXXXXX")
  trap live_server_cleanup EXIT

  export GATEHOUSE_DATABASE_URL="sqlite://$work/gatehouse.db"
  "$live_server_binary" account create acme --name "Acme Inc." >/dev/null
  "$live_server_binary" person create --account acme --email admin@example.org --name Admin \
    --role directory_administrator >/dev/null
  token=$("$live_server_binary" scim-token create --account acme 2>/dev/null | tail -n 1)
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$live_server_binary" serve --listen "127.0.0.1:$port" --rate-limit-per-minute 0 \
    >"$work/serve.log" 2>&1 &
  live_server_pid=$!
  local _
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break
    sleep 0.1
  done
  if ! curl -fs "http://127.0.0.1:$port/readyz" >/dev/null; then
    echo "gatehouse did not start; its log:" >&2
    cat "$work/serve.log" >&2
    return 1
  fi
  scim_url="http://127.0.0.1:$port/scim/v2"
}
