#!/usr/bin/env bash
# Runs inside infra/local/with-stack.sh (see scripts/demo and scripts/shell): AWS_ENDPOINT_URL
# and BILLWATCH_* point at the local stack, and the project's venv (moto, boto3, cargo-lambda)
# is on PATH.
#
#   demo-flow.sh [FILE [BUCKET_DIR]]                          the demo (scripts/demo)
#   demo-flow.sh --shell [-c COMMAND] [FILE [BUCKET_DIR]]     the demo, then a shell on the
#                                                             stack and its data (scripts/shell)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

shell_mode=""
shell_command=()
if [[ ${1:-} == --shell ]]; then
  shell_mode=1
  shift
  if [[ ${1:-} == -c ]]; then
    [[ $# -ge 2 ]] || { echo "usage: scripts/shell [-c COMMAND] [FILE [BUCKET_DIR]]" >&2; exit 2; }
    shell_command=(-c "$2")
    shift 2
  fi
  # The shell gets this script's stdin (a terminal, or commands piped in): nothing before it
  # may read from there.
  exec 3<&0 </dev/null
fi

# shellcheck source=scripts/lib.sh
. scripts/lib.sh   # step

work="$(mktemp -d "${TMPDIR:-/tmp}/billwatch-demo.XXXXXX")"
watch_pid=""
stop_function() {
  if [[ -n $watch_pid ]]; then
    kill -TERM -- "-$watch_pid" 2>/dev/null || kill -TERM "$watch_pid" 2>/dev/null || true
    wait "$watch_pid" 2>/dev/null || true
    watch_pid=""
  fi
}
finish() {
  stop_function
  rm -rf "$work"
}
trap finish EXIT

# These packages with --locked: the features and profile `cargo test --workspace` gives them,
# so ./scripts/test reuses this build (shared/workspace-hack/tests/one_build.rs reads this line).
step "Building billwatch and the ingest function"
echo "(the first build compiles about 400 crates: several minutes on 2 cores, 15 or more on a busy"
echo " machine; later runs reuse it and take seconds)"
cargo build --locked -p billwatch-cli -p report-ingest
target_dir="$(cargo metadata --locked --offline --no-deps --format-version 1 \
  | python -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
bw="$target_dir/debug/billwatch"

port="$(python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
env | grep -E '^(AWS_|BILLWATCH_|NO_PROXY=)' > "$work/function.env"
step "Starting the function under cargo lambda watch on 127.0.0.1:$port"
set -m
cargo lambda watch -A 127.0.0.1 -P "$port" --env-file "$work/function.env" > "$work/watch.log" 2>&1 &
watch_pid=$!
set +m
for _ in $(seq 1 120); do
  if python -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1',$port)))" 2>/dev/null; then break; fi
  kill -0 "$watch_pid" 2>/dev/null || { cat "$work/watch.log"; echo "cargo lambda watch died" >&2; exit 1; }
  sleep 0.5
done

upload() {  # $1 local file, $2 key
  python - "$1" "$BILLWATCH_BUCKET" "$2" <<'PY'
import sys, boto3
path, bucket, key = sys.argv[1:]
boto3.client("s3").upload_file(path, bucket, key)
PY
}

invoke() {  # $1 key: build the S3 event for the object and deliver it to the function
  python infra/local/s3_event.py "$BILLWATCH_BUCKET" "$1" > "$work/event.json"
  cargo lambda invoke -A 127.0.0.1 -P "$port" report-ingest --data-file "$work/event.json" > "$work/result.json" \
    || { echo "invoke failed:"; cat "$work/result.json"; tail -n 30 "$work/watch.log"; exit 1; }
  python -m json.tool "$work/result.json"
}

read_alerts() {  # the alerts the topic sent since the last call: SQS body, and e-mail text
  python - "$BILLWATCH_ALERTS_QUEUE_URL" "$BILLWATCH_ALERT_TOPIC_ARN" <<'PY'
import json, os, sys, urllib.request, boto3
queue, topic = sys.argv[1:]
sqs = boto3.client("sqs")
got = []
while True:
    batch = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    if not batch:
        break
    for m in batch:
        got.append(json.loads(m["Body"]))
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
# With MessageStructure=json each protocol gets its own body: this SQS subscription the JSON
# payload, an e-mail subscription the text. The emulator keeps every message published to a
# topic (its /moto-api/data.json): the e-mail text is read back from there, by message id.
emails = {}
try:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    data = json.load(opener.open(os.environ["AWS_ENDPOINT_URL"] + "/moto-api/data.json", timeout=10))
    for t in data.get("sns", {}).get("Topic", []):
        if t.get("arn") == topic:
            for message_id, message, *_ in t.get("sent_notifications", []):
                emails[message_id] = json.loads(message).get("email")
except Exception as e:  # the demo goes on without the e-mail text
    print(f"(could not read the e-mail text back from the emulator: {e})")
shown = set()
for n, env in enumerate(got, 1):
    attrs = {k: v["Value"] for k, v in env.get("MessageAttributes", {}).items()}
    print(f"--- alert {n}: {env['Subject']}")
    print(f"    attributes: kind={attrs.get('kind')} basis={attrs.get('basis')} severity={attrs.get('severity')} threshold={attrs.get('threshold')}")
    p = json.loads(env["Message"])
    if p.get("type") == "budget":
        top = ", ".join(f"{t['service']} {t['cost']}" for t in p["top_services"][:3])
        print(f"    payload (SQS): actual {p['actual']} {p['currency']} of {p['amount']} ({p['percent']}%), forecast {p['forecast']}; top: {top}")
    else:
        print("    payload (SQS): " + json.dumps(p)[:300])
    text = emails.get(env.get("MessageId"))
    if text is None:
        continue
    # The first e-mail of each kind in full; the others have its layout, with their own figures.
    if attrs.get("kind") in shown:
        print("    e-mail: laid out like the one above, with this alert's threshold and figures")
        continue
    shown.add(attrs.get("kind"))
    print("    e-mail, as a subscriber reads it:")
    print(f"    | Subject: {env['Subject']}")
    print("    |")
    for line in text.splitlines():
        print(f"    | {line}".rstrip())
print(f"({len(got)} alert message{'s' if len(got) != 1 else ''} received)")
PY
}

# What the shell's banner suggests, set by the flow that ran.
demo_period=""; demo_budget=""; demo_account=""; demo_service=""

own_report_flow() {  # ./scripts/demo FILE [BUCKET_DIR]: the same flow on one's own report
  file="$1"; bucket_dir="${2:-}"
  step "Your report, summarized locally first (billwatch summarize)"
  "$bw" summarize ${bucket_dir:+--bucket-dir "$bucket_dir"} "$file"
  "$bw" summarize --json ${bucket_dir:+--bucket-dir "$bucket_dir"} "$file" > "$work/summary.json"
  read -r period grand currency amount demo_account demo_service \
    < <(python scripts/demo_budget.py "$work/summary.json")
  if python -c 'import decimal,sys; sys.exit(decimal.Decimal(sys.argv[1]) <= 0)' "$grand"; then
    step "A budget of $amount $currency: this month's $grand $currency so far is about 62% of it, so the 25% and 50% alerts fire"
  else
    step "A budget of $amount $currency: this month's spend so far is $grand $currency, so no threshold is reached and no alert fires"
  fi
  "$bw" budgets put my-report --amount "$amount" --currency "$currency" --thresholds 25%,50% \
    --forecast-thresholds 100% --digest
  step "Your report uploaded into the local bucket as AWS lays it out"
  key="$(python infra/local/demo_upload.py "$BILLWATCH_BUCKET" "$file" "$bucket_dir" "$period")"
  step "S3 notifies the function (cargo lambda invoke with the S3 event for $key)"
  invoke "$key"
  step "Totals stored in DynamoDB (billwatch totals --period $period)"
  "$bw" totals --period "$period"
  step "Alerts published to SNS: what its SQS subscription got, and the e-mail text"
  read_alerts
  format="$(python -c 'import json,sys; v=json.load(open(sys.argv[1])); print(v.get("format") or v["periods"][0]["format"])' "$work/summary.json")"
  case "$format" in
    cur1|cur2|focus)
      step "Spend anomalies of the month, judged offline (billwatch anomalies --report)"
      "$bw" anomalies --report "$file" ${bucket_dir:+--bucket-dir "$bucket_dir"} --period "$period" || true ;;
    *)
      step "Spend anomalies: skipped (a $format report has no daily series; CUR and FOCUS reports have one)" ;;
  esac
  step "The month to date against the budget (billwatch totals --chart --budget my-report)"
  "$bw" totals --period "$period" --chart --budget my-report
  demo_period="$period"; demo_budget=my-report
}

sample_flow() {  # ./scripts/demo: an estimated monthly bill, then the final one
  key="billing/123456789012-aws-billing-csv-2026-11.csv"
  step "A budget: 100 USD a month for all accounts, alerting at 50%, 80% and 100%"
  "$bw" budgets apply budgets.example.toml --dry-run
  "$bw" budgets put monthly-total --amount 100 --currency USD --thresholds 50%,80%,100%
  "$bw" budgets list

  step "AWS writes an estimated November bill into the bucket: s3://$BILLWATCH_BUCKET/$key"
  upload tests/fixtures/synthetic/monthly-estimated/123456789012-aws-billing-csv-2026-11.csv "$key"
  step "S3 notifies the function (cargo lambda invoke with the S3 event)"
  invoke "$key"
  step "Totals stored in DynamoDB (billwatch totals --period 2026-11)"
  "$bw" totals --period 2026-11
  step "Alerts published to SNS: what its SQS subscription got, and the e-mail text"
  read_alerts

  step "A few hours later AWS overwrites the report with a newer figure (here: the final bill)"
  upload tests/fixtures/synthetic/monthly-final/123456789012-aws-billing-csv-2026-11.csv "$key"
  invoke "$key"
  step "Totals replaced, not added (billwatch totals --period 2026-11)"
  "$bw" totals --period 2026-11
  step "No threshold alerts twice; the final bill brings one month-close summary"
  read_alerts
  step "The reports table (billwatch reports --period 2026-11)"
  "$bw" reports --period 2026-11
  demo_period=2026-11; demo_budget=monthly-total; demo_account=123456789012; demo_service=AmazonEC2
}

open_shell() {  # scripts/shell: this script's environment, billwatch on PATH, the saved stdin
  stop_function   # queries need only the tables (and the watcher would rebuild on every edit)
  mkdir -p "$work/bin"
  ln -s "$bw" "$work/bin/billwatch"
  export PATH="$work/bin:$PATH"
  local p="--period $demo_period" b="--budget $demo_budget"
  local a="--account $demo_account --service $demo_service"
  step "A shell on the local stack, with the data above in it"
  cat <<EOF
AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL (moto), AWS_REGION=$AWS_REGION, dummy credentials.
The stack is 'billwatch': BILLWATCH_* name its tables, topic and bucket (--stack billwatch
finds the same). 'billwatch' is the build above. For example:

  billwatch totals $p
  billwatch totals $p --chart $b
  billwatch reports $p
  billwatch alerts $p
  billwatch history $a --chart $b
  billwatch daily $a $p  # CUR and FOCUS reports only
  billwatch anomalies $p  # CUR and FOCUS reports only
  billwatch budgets list
  billwatch budgets apply budgets.example.toml --dry-run
  aws dynamodb scan --table-name "\$BILLWATCH_BUDGETS_TABLE"  # the AWS CLI, if installed

'exit' (or Ctrl-D) stops the stack; its data goes with it.
EOF
  local shell="${SHELL:-bash}" rc=0
  if ((${#shell_command[@]})); then
    bash "${shell_command[@]}" <&3 || rc=$?
  elif [[ -t 3 && ${shell##*/} == bash ]]; then
    # An interactive bash: the user's ~/.bashrc, then a prompt that says where it is.
    printf '%s\n' '[[ -f ~/.bashrc ]] && . ~/.bashrc' 'PS1="(billwatch local) ${PS1:-\$ }"' >"$work/bashrc"
    "$shell" --rcfile "$work/bashrc" -i <&3 || true
  elif [[ -t 3 ]]; then
    "$shell" <&3 || true   # interactive: the last command's status means nothing here
  else
    "$shell" <&3 || rc=$?  # commands from a pipe or file: their status, as with -c
  fi
  return "$rc"
}

if [[ $# -gt 0 ]]; then own_report_flow "$@"; else sample_flow; fi
if [[ -n $shell_mode ]]; then open_shell; fi
