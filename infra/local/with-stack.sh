#!/usr/bin/env bash
# Run CMD against a throwaway local AWS emulator (moto_server), then tear it down.
#
#   infra/local/with-stack.sh CMD [ARGS...]
#
# Ensures <repo>/.venv (venv.sh), starts moto_server on a free 127.0.0.1 port,
# waits until it answers HTTP, runs CMD in the current directory with the
# emulator's environment (see infra/local/README.md), stops moto_server however
# CMD ends (exit, error, Ctrl-C, TERM, HUP) and exits with CMD's exit code.
# $BILLWATCH_STACK_TIMEOUT: seconds to wait for moto_server to answer (default 30).
# shellcheck disable=SC2317  # functions below are run from traps
set -euo pipefail
{ : 3<&0; } 2>/dev/null || exec </dev/null   # stdin closed (e.g. under CI): make it valid

say() { printf 'with-stack.sh: %s\n' "$*" >&2; }
die() { printf 'with-stack.sh: ERROR: %s\n' "$*" >&2; exit 1; }

if [[ $# -eq 0 ]]; then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 2
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
venv="$("$here/venv.sh")" || die "could not prepare the Python venv (see above)"
py="$venv/bin/python"
[[ -x $venv/bin/moto_server ]] || die "$venv/bin/moto_server is missing; delete $venv and retry"
timeout="${BILLWATCH_STACK_TIMEOUT:-30}"
[[ $timeout =~ ^[0-9]+$ ]] || die "BILLWATCH_STACK_TIMEOUT must be whole seconds, got '$timeout'"

workdir="$(mktemp -d "${TMPDIR:-/tmp}/billwatch-stack.XXXXXX")"
moto_pid=""
cmd_pid=""
cmd_group=""
moto_log=""

# Wait up to $2 tenths of a second for pid $1 to exit; 0 if it did.
wait_gone() {
  local i
  for ((i = 0; i < $2; i++)); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  ! kill -0 "$1" 2>/dev/null
}

stop_cmd() {  # $1: signal to send first
  [[ -n $cmd_pid ]] || return 0
  if [[ -n $cmd_group ]]; then
    kill "-$1" -- "-$cmd_pid" 2>/dev/null || kill "-$1" "$cmd_pid" 2>/dev/null || true
  else
    kill "-$1" "$cmd_pid" 2>/dev/null || true
  fi
  # Poll rather than `wait PID`: after a Ctrl-C bash may already have reaped the
  # child, and `wait PID` would then block for good (seen with bash 5.2).
  if ! wait_gone "$cmd_pid" 100; then
    say "command ignored SIG$1 for 10 s: killing it"
    kill -KILL "$cmd_pid" 2>/dev/null || true
    wait_gone "$cmd_pid" 50 || true
  fi
  reap_group
  cmd_pid=""
}

reap_group() {  # kill what CMD left behind in its own process group, if it has one
  [[ -n $cmd_group && -n $cmd_pid ]] || return 0
  kill -TERM -- "-$cmd_pid" 2>/dev/null || return 0
  sleep 0.5
  kill -KILL -- "-$cmd_pid" 2>/dev/null || true
}

stop_moto() {  # moto_server leads its own process group: signal the whole group
  [[ -n $moto_pid ]] || return 0
  kill -TERM -- "-$moto_pid" 2>/dev/null || kill -TERM "$moto_pid" 2>/dev/null || true
  if wait_gone "$moto_pid" 50; then
    kill -KILL -- "-$moto_pid" 2>/dev/null || true   # anything it left in its group
  else
    say "moto_server ignored SIGTERM for 5 s: killing it"
    kill -KILL -- "-$moto_pid" 2>/dev/null || kill -KILL "$moto_pid" 2>/dev/null || true
    wait_gone "$moto_pid" 50 || true
  fi
  moto_pid=""
}

cleanup() {
  local rc=$?
  trap '' INT TERM HUP
  stop_cmd TERM
  stop_moto
  rm -rf "$workdir"
  exit "$rc"
}

on_signal() {  # $1: name, $2: number
  trap '' INT TERM HUP
  say "got SIG$1: stopping the command and moto_server"
  stop_cmd "$1"
  exit $((128 + $2))
}

trap cleanup EXIT
trap 'on_signal INT 2' INT
trap 'on_signal TERM 15' TERM
trap 'on_signal HUP 1' HUP

free_port() {  # ask the OS for a free port
  "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

answers_http() {  # $1: base URL; any HTTP answer counts, proxies bypassed
  "$py" - "$1" <<'PY'
import sys, urllib.error, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    opener.open(sys.argv[1] + "/moto-api/", timeout=2).close()
except urllib.error.HTTPError:
    pass
except Exception:
    sys.exit(1)
PY
}

# Launcher for moto_server: own session/process group (so it can be stopped as a
# group and a terminal's Ctrl-C does not hit it before CMD is done with it) and,
# on Linux, SIGTERM if this script dies without running its trap (e.g. SIGKILL).
launcher='
import ctypes, os, signal, sys
os.setsid()
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
except Exception:
    pass
if os.getppid() != int(sys.argv[1]):
    sys.exit(0)
os.execv(sys.argv[2], sys.argv[2:])
'

# Launcher for CMD in its own process group (used when stdin is not a terminal).
group_launcher='
import os, signal, sys
os.setpgid(0, 0)
signal.signal(signal.SIGINT, signal.SIG_DFL)
signal.signal(signal.SIGQUIT, signal.SIG_DFL)
try:
    os.execvp(sys.argv[1], sys.argv[1:])
except OSError as e:
    sys.stderr.write(f"with-stack.sh: {sys.argv[1]}: {e.strerror}\n")
    sys.exit(127 if isinstance(e, FileNotFoundError) else 126)
'

ready=""
for attempt in 1 2 3; do
  port="$(free_port)" || die "could not get a free port from the OS"
  url="http://127.0.0.1:$port"
  moto_log="$workdir/moto_server-$port.log"
  # moto_server with DynamoDB writes atomic with each other (see infra/local/moto_locked.py).
  "$py" -c "$launcher" "$$" "$venv/bin/python" "$here/moto_locked.py" -H 127.0.0.1 -p "$port" </dev/null >"$moto_log" 2>&1 &
  moto_pid=$!
  deadline=$((SECONDS + timeout))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$moto_pid" 2>/dev/null; then
      wait "$moto_pid" 2>/dev/null || true
      moto_pid=""
      break
    fi
    if answers_http "$url"; then ready=1; break; fi
    sleep 0.2
  done
  [[ -n $ready ]] && break
  if [[ -z $moto_pid ]] && grep -qi 'address already in use' "$moto_log" && ((attempt < 3)); then
    say "port $port was taken before moto_server bound it; trying another"
    continue
  fi
  {
    if [[ -n $moto_pid ]]; then
      echo "with-stack.sh: ERROR: moto_server did not answer on $url within ${timeout} s. Its log:"
    else
      echo "with-stack.sh: ERROR: moto_server exited before answering on $url. Its log:"
    fi
    sed 's/^/    /' "$moto_log"
  } >&2
  exit 1
done
say "moto_server ready at $url (pid $moto_pid)"

# Only the emulator: no profile, config file, session token, role or per-service
# endpoint from the caller's environment may point the SDKs at real AWS. (Other
# AWS_* variables, e.g. aws-lc-sys build settings, are left alone.)
aws_unset='^AWS_(PROFILE|DEFAULT_PROFILE|SESSION_TOKEN|SECURITY_TOKEN|CREDENTIAL_EXPIRATION|ROLE_ARN|ROLE_SESSION_NAME|WEB_IDENTITY_TOKEN_FILE|CONTAINER_.*|SSO_.*|ENDPOINT_URL_.*|IGNORE_CONFIGURED_ENDPOINT_URLS|USE_FIPS_ENDPOINT|USE_DUALSTACK_ENDPOINT)$'
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep -E "$aws_unset" || true)
export AWS_ENDPOINT_URL="$url"
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=testing
export AWS_SECRET_ACCESS_KEY=testing
export AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=/dev/null
export AWS_SHARED_CREDENTIALS_FILE=/dev/null
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
export no_proxy="$NO_PROXY"
export BILLWATCH_EMULATOR=1
export PATH="$venv/bin:$PATH"

# billwatch's bucket, tables, topic and alert inbox, created from template.yaml itself so the
# local stack and the deployed one cannot drift (exports BILLWATCH_* for CMD).
stack_env="$("$py" "$here/create_stack.py" --template "$here/../../template.yaml")" \
  || die "could not create billwatch's stack from template.yaml in the emulator (see above)"
eval "$stack_env"

# CMD runs as a child we can wait on, so a TERM to this script is handled at once
# rather than after CMD ends. It keeps this script's stdin (bash would give a
# background job /dev/null) and default INT/QUIT handling (which bash would ignore).
# Without a terminal (CI) it also gets its own process group, so a TERM or
# timeout reaches what it started too (test binaries under cargo); at a terminal
# it stays in ours, so that Ctrl-C and terminal input work as usual.
if [[ -t 0 ]]; then
  (trap - INT QUIT; exec "$@") <&0 &
else
  cmd_group=1
  "$py" -c "$group_launcher" "$@" <&0 &
fi
cmd_pid=$!
wait "$cmd_pid" && rc=0 || rc=$?   # a trapped signal runs on_signal, which exits
reap_group
cmd_pid=""

if ((rc != 0)); then
  say "command exited with $rc; last lines of the moto_server log:"
  tail -n 20 "$moto_log" | sed 's/^/    /' >&2
fi
exit "$rc"
