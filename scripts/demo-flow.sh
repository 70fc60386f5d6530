#!/usr/bin/env bash
# Runs inside infra/local/with-stack.sh (see scripts/demo): AWS_ENDPOINT_URL and BILLWATCH_*
# point at the local stack, and the project's venv (moto, boto3, cargo-lambda) is on PATH.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

work="$(mktemp -d "${TMPDIR:-/tmp}/billwatch-demo.XXXXXX")"
watch_pid=""
finish() {
  if [[ -n $watch_pid ]]; then
    kill -TERM -- "-$watch_pid" 2>/dev/null || kill -TERM "$watch_pid" 2>/dev/null || true
    wait "$watch_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap finish EXIT

# These packages with --locked: the features and profile `cargo test --workspace` gives them,
# so ./scripts/test reuses this build (shared/workspace-hack/tests/one_build.rs reads this line).
step "Building billwatch and the ingest function"
cargo build --locked -p billwatch-cli -p report-ingest
bw=target/debug/billwatch

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

read_alerts() {
  python - "$BILLWATCH_ALERTS_QUEUE_URL" <<'PY'
import json, sys, boto3
sqs = boto3.client("sqs")
n = 0
while True:
    got = sqs.receive_message(QueueUrl=sys.argv[1], MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    if not got:
        break
    for m in got:
        n += 1
        env = json.loads(m["Body"])
        attrs = {k: v["Value"] for k, v in env.get("MessageAttributes", {}).items()}
        print(f"--- alert {n}: {env['Subject']}")
        print(f"    attributes: kind={attrs.get('kind')} basis={attrs.get('basis')} severity={attrs.get('severity')} threshold={attrs.get('threshold')}")
        # With MessageStructure=json, e-mail subscribers get text; queues get a JSON payload.
        p = json.loads(env["Message"])
        if p.get("type") == "budget":
            top = ", ".join(f"{t['service']} {t['cost']}" for t in p["top_services"][:3])
            print(f"    payload: actual {p['actual']} {p['currency']} of {p['amount']} ({p['percent']}%), forecast {p['forecast']}; top: {top}")
        else:
            print("    payload: " + json.dumps(p)[:300])
        sqs.delete_message(QueueUrl=sys.argv[1], ReceiptHandle=m["ReceiptHandle"])
print(f"({n} alert message{'s' if n != 1 else ''} received)")
PY
}

if [[ $# -gt 0 ]]; then
  # ./scripts/demo FILE [BUCKET_DIR]: the same flow on one's own report.
  file="$1"; bucket_dir="${2:-}"
  step "Your report, summarized locally first (billwatch summarize)"
  "$bw" summarize ${bucket_dir:+--bucket-dir "$bucket_dir"} "$file"
  "$bw" summarize --json ${bucket_dir:+--bucket-dir "$bucket_dir"} "$file" > "$work/summary.json"
  read -r period grand currency < <(python - "$work/summary.json" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
s = v["periods"][-1] if "periods" in v else v
g = max(s["grand_totals"], key=lambda g: abs(float(g["cost"]))) if s["grand_totals"] else {"cost": "0", "currency": "USD"}
print(s.get("billing_period") or "", g["cost"], g["currency"])
PY
)
  step "A budget of about twice this month's spend so far, alerting at 25%, 50% and 100% forecast"
  amount="$(python -c "import decimal,sys; print(max(decimal.Decimal(sys.argv[1])*2, 1).quantize(decimal.Decimal(1)))" "$grand")"
  "$bw" budgets put my-report --amount "$amount" --currency "$currency" --thresholds 25%,50% \
    --forecast-thresholds 100% --digest
  step "Your report uploaded into the local bucket as AWS lays it out"
  key="$(python infra/local/demo_upload.py "$BILLWATCH_BUCKET" "$file" "$bucket_dir" "$period")"
  step "S3 notifies the function (cargo lambda invoke with the S3 event for $key)"
  invoke "$key"
  step "Totals stored in DynamoDB (billwatch totals --period $period)"
  "$bw" totals --period "$period"
  step "Alerts published to SNS, read back from its SQS subscription"
  read_alerts
  step "Spend anomalies of the month, judged offline (billwatch anomalies --report)"
  "$bw" anomalies --report "$file" ${bucket_dir:+--bucket-dir "$bucket_dir"} --period "$period" || true
  step "The month to date against the budget (billwatch totals --chart --budget my-report)"
  "$bw" totals --period "$period" --chart --budget my-report
  exit 0
fi

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
step "Alerts published to SNS, read back from its SQS subscription"
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
