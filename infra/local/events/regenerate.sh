#!/usr/bin/env bash
# Rewrite the S3 event fixtures in this folder with infra/local/s3_event.py --from-file: size
# and eTag (MD5) are those of the named tests/fixtures file, so a test that uploads that file
# under the event's key sees the same size and ETag. Fixed event times (sequencers derive from
# them) and version ids keep the output stable. No emulator needed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd -P)"
cd "$root"
py="${BILLWATCH_PYTHON:-$root/.venv/bin/python}"
[[ -x $py ]] || py=python3
ev=infra/local/events
fx=tests/fixtures
bucket=billwatch-billing-123456789012

put() {  # OUT FILE KEY EVENT_TIME VERSION_ID
  "$py" infra/local/s3_event.py --region us-east-1 --from-file "$2" --event-time "$4" --version-id "$5" \
    "$bucket" "$3" >"$ev/$1"
}

put put-legacy-monthly-csv.json "$fx/synthetic/monthly-final/123456789012-aws-billing-csv-2026-11.csv" \
  123456789012-aws-billing-csv-2026-11.csv 2026-11-27T10:15:42.318Z 3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrH
put put-dbr-csv-zip.json "$fx/synthetic/dbr/123456789012-aws-billing-detailed-line-items-2026-11.csv.zip" \
  123456789012-aws-billing-detailed-line-items-2026-11.csv.zip 2026-11-27T10:16:05.027Z Qm7cd0rX2v9wN8ZyUe5hB1tJkLp3sA6G
put put-cur-manifest.json "$fx/bucket/cur1-2026-11/cur/billwatch-hourly/20261101-20261201/billwatch-hourly-Manifest.json" \
  cur/billwatch-hourly/20261101-20261201/billwatch-hourly-Manifest.json 2026-11-27T11:02:17.604Z xV1pQz8rW3tY6uI9oP2aS5dF4gH7jK0l
put put-cur-assembly-manifest.json "$fx/bucket/cur1-2026-11/cur/billwatch-hourly/20261101-20261201/5f0c7a1e-3b8d-4e2a-9c61-0d2f4b8a7e93/billwatch-hourly-Manifest.json" \
  cur/billwatch-hourly/20261101-20261201/5f0c7a1e-3b8d-4e2a-9c61-0d2f4b8a7e93/billwatch-hourly-Manifest.json 2026-11-27T11:02:17.455Z bN4mV7cX0zL3kJ6hG9fD2sA5pO8iU1yT
put put-data-exports-manifest.json "$fx/bucket/cur2-2026-11/exports/billwatch-cur2/metadata/BILLING_PERIOD=2026-11/billwatch-cur2-Manifest.json" \
  exports/billwatch-cur2/metadata/BILLING_PERIOD=2026-11/billwatch-cur2-Manifest.json 2026-11-27T12:41:09.980Z Lk9Jh8Gf7Ds6Aq5Wz4Xe3Rc2Tv1Yb0Nu
put put-encoded-key.json "$fx/synthetic/monthly-final/123456789012-aws-billing-csv-2026-11.csv" \
  "billing/Nov 2026+extra (1)/café/123456789012-aws-billing-csv-2026-11.csv" 2026-11-27T13:00:00.001Z Zx8Cv7Bn6Mm5Ll4Kk3Jj2Hh1Gg0Ff9Dd
"$py" infra/local/s3_event.py --region us-east-1 --eventbridge \
  --from-file "$fx/synthetic/monthly-final/123456789012-aws-billing-csv-2026-11.csv" \
  --event-time 2026-11-27T13:00:00.001Z --version-id Zx8Cv7Bn6Mm5Ll4Kk3Jj2Hh1Gg0Ff9Dd "$bucket" \
  "billing/Nov 2026+extra (1)/café/123456789012-aws-billing-csv-2026-11.csv" >"$ev/eventbridge-put-encoded-key.json"
"$py" infra/local/s3_event.py --test-event --event-time 2026-11-27T09:58:03.112Z "$bucket" >"$ev/s3-test-event.json"
echo "regenerate.sh: wrote $(ls "$ev"/*.json | wc -l) fixtures in $ev" >&2
