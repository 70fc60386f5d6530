#!/usr/bin/env python3
"""The triggers' filters of template.yaml against every key AWS billing writes.

    infra/trigger_filters.py [--template template.yaml] [-v]

Two filters decide which objects invoke ReportIngestFunction, and the local emulator checks
neither the way AWS does (moto's S3 notifications ignore overlapping filters; the local stack
invokes the function itself). This check resolves the template for each deployment mode and
report prefix and runs every report key layout of docs/deploy-checks.md through:

  * the EventBridge rule ReportCreatedRule (existing bucket): its EventPattern, resolved,
    against the "Object Created" event S3 sends for the key (infra/local/s3_event.py: the
    documented shape, the key URL-encoded as S3 sends it), through moto's EventBridge
    TestEventPattern API (the same pattern matcher its rules use, `wildcard` included);
  * the S3 notifications of BillingBucket (new bucket): each configuration's prefix and suffix
    rules, by S3's documented semantics (the decoded key starts with the prefix and ends with
    the suffix, case-sensitive), and S3's rule that configurations for the same event type must
    not overlap (PutBucketNotificationConfiguration fails with "Configurations overlap").

Expected: every report key (legacy monthly, cost allocation, DBR zips, CUR 1.0 date-range and
assembly manifests, CUR 2.0 / FOCUS metadata manifests) under the prefix invokes the function
once; data parts (.csv.gz, .parquet), Athena/Redshift artifacts, keys outside the prefix,
another bucket's objects and other event types do not. A CUR 1.0 report delivered as ZIP has
parts named .csv.zip: they invoke the function (which ignores them: shared/core report::format),
listed as such, not as a failure.

Exit status 0 when every key is handled as expected, 1 otherwise (one line per key).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import urllib.parse
from pathlib import Path
from typing import Any

sys.dont_write_bytecode = True
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "local"))

import s3_event  # noqa: E402
import stack_template as st  # noqa: E402

PROG = "trigger_filters.py"
ACCOUNT = st.DEFAULT_ACCOUNT
REGION = "us-east-1"
OTHER_BUCKET = "someone-elses-reports"
EXISTING_BUCKET = "acme-billing-reports"
# Report prefixes tried in each mode: none, a folder, a bare word (no slash), a nested one.
PREFIXES = ["", "billing/", "cur", "billing/exports/2026/"]
ASSEMBLY = "5c5c8ba4-6dc8-4a6e-9e5e-0e6b8b6e2a4f"
EXECUTION = "0f7e2b3c-4d5e-4f60-8a1b-2c3d4e5f6a7b"
PAYER = "123456789012"

# Keys relative to the report prefix: (key, what it is). Layouts of the billing formats
# reference (legacy file names, CUR 1.0 "overwrite" and "create new version", the Athena and
# Redshift options, Data Exports CUR 2.0 and FOCUS, overwrite and create-new).
REPORT_KEYS: list[tuple[str, str]] = [
    (f"{PAYER}-aws-billing-csv-2026-11.csv", "legacy monthly report"),
    (f"{PAYER}-aws-billing-csv-AISPL-2026-11.csv", "legacy monthly report, billing-entity infix"),
    (f"{PAYER}-aws-cost-allocation-2026-11.csv", "legacy cost allocation report"),
    (f"{PAYER}-aws-billing-detailed-line-items-2026-11.csv.zip", "DBR"),
    (f"{PAYER}-aws-billing-detailed-line-items-with-resources-and-tags-2026-11.csv.zip", "DBR-RT"),
    (f"{PAYER}-aws-billing-detailed-line-items-with-resources-and-tags-AISPL-2017-01.csv.zip", "DBR-RT, AISPL"),
    ("hourly-cur/20261101-20261201/hourly-cur-Manifest.json", "CUR 1.0 date-range manifest"),
    (f"hourly-cur/20261101-20261201/{ASSEMBLY}/hourly-cur-Manifest.json", "CUR 1.0 assembly manifest"),
    ("team/daily cur/20261101-20261201/daily cur-Manifest.json", "CUR 1.0 manifest, report prefix and name with a space"),
    ("caf\u00e9/r/20261101-20261201/r-Manifest.json", "CUR 1.0 manifest, non-ASCII report prefix"),
    ("legacy-in-de/20230805T165709Z/legacy-in-de-Manifest.json", "legacy CUR made in Data Exports, timestamp folder"),
    ("cur2/metadata/BILLING_PERIOD=2026-11/cur2-Manifest.json", "CUR 2.0 manifest"),
    (f"cur2/metadata/BILLING_PERIOD=2026-11/{EXECUTION}/cur2-Manifest.json", "CUR 2.0 manifest, create-new mode"),
    ("focus/metadata/BILLING_PERIOD=2026-11/focus-Manifest.json", "FOCUS manifest"),
]

# Keys that invoke the function by the filters' design although it does nothing with them.
INVOKES_IGNORED: list[tuple[str, str]] = [
    (f"hourly-zip/20261101-20261201/{ASSEMBLY}/hourly-zip-1.csv.zip", "CUR 1.0 part, ZIP compression"),
]

# Keys under the prefix that must not invoke the function.
OTHER_KEYS: list[tuple[str, str]] = [
    (f"hourly-cur/20261101-20261201/{ASSEMBLY}/hourly-cur-1.csv.gz", "CUR 1.0 part, gzip"),
    (f"hourly-cur/20261101-20261201/{ASSEMBLY}/hourly-cur-RedshiftManifest.json", "CUR 1.0 Redshift manifest"),
    (f"hourly-cur/20261101-20261201/{ASSEMBLY}/hourly-cur-RedshiftCommands.sql", "CUR 1.0 Redshift commands"),
    ("athena-cur/athena-cur/year=2026/month=11/athena-cur-00001.snappy.parquet", "CUR 1.0 Athena part"),
    ("athena-cur/crawler-cfn.yml", "CUR 1.0 Athena crawler template"),
    ("athena-cur/athena-cur-create-table.sql", "CUR 1.0 Athena table"),
    ("athena-cur/cost_and_usage_data_status/cost_and_usage_data_status.parquet", "CUR 1.0 Athena status"),
    ("cur2/data/BILLING_PERIOD=2026-11/cur2-00001.csv.gz", "CUR 2.0 part, gzip CSV"),
    ("cur2/data/BILLING_PERIOD=2026-11/cur2-00001.snappy.parquet", "CUR 2.0 part, Parquet"),
    ("focus/data/BILLING_PERIOD=2026-11/focus-00001.parquet", "FOCUS part"),
    ("cur2/metadata/BILLING_PERIOD=2026-11/cur2-Manifest.json.tmp", "not a manifest"),
    (f"{PAYER}-aws-billing-csv-2026-11.CSV", "upper-case suffix (S3 keys are case-sensitive)"),
    ("notes/README.txt", "anything else"),
]

# Keys outside a non-empty prefix (checked only when the prefix is not empty).
OUTSIDE_KEYS: list[tuple[str, str]] = [
    (f"{PAYER}-aws-billing-csv-2026-11.csv", "legacy report at the bucket's root"),
    ("elsewhere/cur2/metadata/BILLING_PERIOD=2026-11/cur2-Manifest.json", "manifest under another prefix"),
]


def outside(prefix: str) -> list[tuple[str, str]]:
    """Keys that look like reports but are not under `prefix` (nor a key it is a prefix of)."""
    out = [(k, w) for k, w in OUTSIDE_KEYS if not k.startswith(prefix)]
    # The prefix without its last character: one letter short is outside too.
    if len(prefix) > 1:
        out.append((prefix[:-1] + "X/" + "r/20261101-20261201/r-Manifest.json", "a sibling of the prefix"))
    return out


# --------------------------------------------------------------------------------------------
# EventBridge
# --------------------------------------------------------------------------------------------


def object_created(bucket: str, key: str, detail_type: str = "Object Created") -> dict[str, Any]:
    """The EventBridge event S3 sends for `key` (decoded) written to `bucket`."""
    notification = s3_event.object_created_event(
        bucket=bucket,
        key=key,
        size=1234,
        etag="d41d8cd98f00b204e9800998ecf8427e",
        version_id="Zx8Cv7Bn6Mm5Ll4Kk3Jj2Hh1Gg0Ff9Dd",
        region=REGION,
        event_time="2026-11-27T13:00:00.000Z",
        sequencer="0018EBE865B73F6240",
    )
    event = s3_event.as_eventbridge(notification, ACCOUNT)
    event["detail-type"] = detail_type
    return event


class Matcher:
    """moto's EventBridge pattern matcher (moto.events.models.EventPattern: what its rules match
    events with; `wildcard` included since moto 5.0.x). moto 5.2.5's TestEventPattern API is a
    stub, so the matcher is called directly, with the parser PutRule validates patterns with."""

    def __init__(self) -> None:
        from moto.events.models import EventPattern

        self._load = EventPattern.load

    def matches(self, pattern: dict[str, Any], event: dict[str, Any]) -> bool:
        return bool(self._load(json.dumps(pattern)).matches_event(json.loads(json.dumps(event))))


def pattern_problems(pattern: dict[str, Any]) -> list[str]:
    """What AWS refuses in a pattern that moto lets through: wildcard values with '**' (AWS:
    consecutive wildcards are invalid) and the 2,048-character EventPattern limit of PutRule
    (AWS counts the pattern's JSON)."""
    out = []
    text = json.dumps(pattern, separators=(",", ":"))
    if len(text) > 2048:
        out.append(f"EventPattern is {len(text)} characters, over PutRule's 2,048")
    for k in ((pattern.get("detail") or {}).get("object") or {}).get("key") or []:
        w = k.get("wildcard", "") if isinstance(k, dict) else ""
        if "**" in w:
            out.append(f"wildcard {w!r} has consecutive '*', which EventBridge rejects")
    return out


def check_rule(template: dict[str, Any], matcher: Matcher, verbose: bool) -> tuple[list[str], int]:
    problems: list[str] = []
    checked = 0
    for prefix in PREFIXES:
        params = {"ExistingBucketName": EXISTING_BUCKET, "ReportPrefix": prefix}
        r = st.Resolver(template, st.DEFAULT_STACK, ACCOUNT, REGION, params)
        if not r.resource_enabled("ReportCreatedRule"):
            problems.append(f"prefix {prefix!r}: ReportCreatedRule is not deployed with an existing bucket")
            continue
        pattern = r.resolve(template["Resources"]["ReportCreatedRule"]["Properties"]["EventPattern"])
        problems += [f"prefix {prefix!r}: {p}" for p in pattern_problems(pattern)]
        cases: list[tuple[str, str, str, bool, str]] = []  # bucket, key, detail-type, want, what
        for key, what in REPORT_KEYS + INVOKES_IGNORED:
            cases.append((EXISTING_BUCKET, prefix + key, "Object Created", True, what))
            cases.append((OTHER_BUCKET, prefix + key, "Object Created", False, what + ", another bucket"))
            cases.append((EXISTING_BUCKET, prefix + key, "Object Deleted", False, what + ", Object Deleted"))
        for key, what in OTHER_KEYS:
            cases.append((EXISTING_BUCKET, prefix + key, "Object Created", False, what))
        if prefix:
            for key, what in outside(prefix):
                cases.append((EXISTING_BUCKET, key, "Object Created", False, what))
        for bucket, key, detail_type, want, what in cases:
            event = object_created(bucket, key, detail_type)
            got = matcher.matches(pattern, event)
            checked += 1
            if verbose:
                print(f"  rule   prefix={prefix!r:24} {'match' if got else '-':5} {bucket}/{event['detail']['object']['key']}")
            if got != want:
                problems.append(
                    f"ReportCreatedRule, prefix {prefix!r}: {what} {bucket}/{key} "
                    f"(event key {event['detail']['object']['key']}) {'matches' if got else 'does not match'}"
                )
    # The event keys really are encoded: a key with a space and a non-ASCII letter arrives as
    # '+' and %XX, and the rule still matches it (the suffixes survive the encoding).
    sample = object_created(EXISTING_BUCKET, "team/daily cur/20261101-20261201/daily cur-Manifest.json")
    if sample["detail"]["object"]["key"] != "team/daily+cur/20261101-20261201/daily+cur-Manifest.json":
        problems.append(f"the event's key is not URL-encoded as S3 sends it: {sample['detail']['object']['key']}")
    return problems, checked


# --------------------------------------------------------------------------------------------
# S3 notifications
# --------------------------------------------------------------------------------------------


def notification_filters(template: dict[str, Any], prefix: str) -> list[tuple[str, str, str, str]]:
    """(event, prefix, suffix, function) of each Lambda configuration of BillingBucket."""
    r = st.Resolver(template, st.DEFAULT_STACK, ACCOUNT, REGION, {"ReportPrefix": prefix})
    config = r.resolve(template["Resources"]["BillingBucket"]["Properties"]["NotificationConfiguration"])
    out = []
    for c in config.get("LambdaConfigurations") or []:
        rules = ((c.get("Filter") or {}).get("S3Key") or {}).get("Rules") or []
        names = [x["Name"].lower() for x in rules]
        if len(names) != len(set(names)):
            raise st.TemplateError(f"a filter has two rules of one kind: {rules} (S3 allows one prefix and one suffix)")
        by_name = {x["Name"].lower(): x["Value"] for x in rules}
        out.append((c["Event"], by_name.get("prefix", ""), by_name.get("suffix", ""), json.dumps(c.get("Function"))))
    return out


def s3_matches(key: str, prefix: str, suffix: str) -> bool:
    """S3's key name filtering: the object's key starts with the prefix and ends with the suffix."""
    return key.startswith(prefix) and key.endswith(suffix)


def events_overlap(a: str, b: str) -> bool:
    """Two event types overlap when one covers the other (s3:ObjectCreated:* and :Put)."""
    if a == b:
        return True
    if a.endswith(":*") and b.startswith(a[:-1]):
        return True
    return b.endswith(":*") and a.startswith(b[:-1])


def overlap(a: tuple[str, str, str, str], b: tuple[str, str, str, str]) -> bool:
    """S3's rule: two configurations overlap when their event types overlap, one prefix is a
    prefix of the other (an empty one of every prefix), and one suffix a suffix of the other."""
    (ea, pa, sa, _), (eb, pb, sb, _) = a, b
    return (
        events_overlap(ea, eb)
        and (pa.startswith(pb) or pb.startswith(pa))
        and (sa.endswith(sb) or sb.endswith(sa))
    )


def check_notifications(template: dict[str, Any], verbose: bool) -> tuple[list[str], int]:
    problems: list[str] = []
    checked = 0
    for prefix in PREFIXES:
        filters = notification_filters(template, prefix)
        for i, a in enumerate(filters):
            for b in filters[i + 1 :]:
                if overlap(a, b):
                    problems.append(f"prefix {prefix!r}: configurations {a[:3]} and {b[:3]} overlap: S3 rejects them")
            for value in a[1:3]:
                # S3 compares the filter with the key as written; a value that URL encoding
                # changes would need writing encoded (S3 User Guide), which the template does not.
                if urllib.parse.quote_plus(value, safe="/") != value:
                    problems.append(f"prefix {prefix!r}: filter value {value!r} changes under URL encoding")
        cases: list[tuple[str, int, str]] = []  # key, invocations wanted, what
        cases += [(prefix + k, 1, w) for k, w in REPORT_KEYS + INVOKES_IGNORED]
        cases += [(prefix + k, 0, w) for k, w in OTHER_KEYS]
        if prefix:
            cases += [(k, 0, w) for k, w in outside(prefix)]
        for key, want, what in cases:
            hits = [f for f in filters if s3_matches(key, f[1], f[2])]
            checked += 1
            if verbose:
                print(f"  s3     prefix={prefix!r:24} {len(hits)} {key}")
            if len(hits) != want:
                problems.append(
                    f"BillingBucket notifications, prefix {prefix!r}: {what} {key} invokes the function "
                    f"{len(hits)} time(s), expected {want}"
                )
    return problems, checked


def self_test() -> list[str]:
    """The overlap rule reproduces S3's known answers, so a pass above means something."""
    out = []
    e = "s3:ObjectCreated:*"
    known = [
        ((e, "", ".csv", ""), (e, "", ".csv.zip", ""), False),
        ((e, "", ".csv", ""), (e, "", "report.csv", ""), True),
        ((e, "", "", ""), (e, "a/", ".csv", ""), True),
        ((e, "a/", ".csv", ""), (e, "b/", ".csv", ""), False),
        ((e, "", "-Manifest.json", ""), (e, "", "Manifest.json", ""), True),
        ((e, "", ".csv", ""), ("s3:ObjectCreated:Put", "", ".csv", ""), True),
        (("s3:ObjectRemoved:*", "", ".csv", ""), (e, "", ".csv", ""), False),
    ]
    for a, b, want in known:
        if overlap(a, b) != want:
            out.append(f"self-test: overlap({a[:3]}, {b[:3]}) should be {want}")
    return out


def mutated(template: dict[str, Any], change: str) -> dict[str, Any]:
    """The template with one known-wrong filter, for the check to catch."""
    t = copy.deepcopy(template)
    res = t["Resources"]
    if change == "rule: *Manifest.json":  # would take -RedshiftManifest.json too
        keys = res["ReportCreatedRule"]["Properties"]["EventPattern"]["detail"]["object"]["key"]
        keys[2] = {"wildcard": {"Fn::Sub": "${ReportPrefix}*Manifest.json"}}
    elif change == "rule: no prefix":
        keys = res["ReportCreatedRule"]["Properties"]["EventPattern"]["detail"]["object"]["key"]
        keys[0] = {"wildcard": "*.csv"}
    elif change == "s3: suffix csv":  # overlaps .csv
        lc = res["BillingBucket"]["Properties"]["NotificationConfiguration"]["LambdaConfigurations"]
        lc[1]["Filter"]["S3Key"]["Rules"]["Fn::If"][2][0]["Value"] = "csv"
    return t


MUTATIONS = ["rule: *Manifest.json", "rule: no prefix", "s3: suffix csv"]


def check(template: dict[str, Any], verbose: bool = False) -> tuple[list[str], str]:
    """Every check of this file on `template`: the problems, and a one-line summary."""
    problems = self_test()
    rule_problems, rule_n = check_rule(template, Matcher(), verbose)
    s3_problems, s3_n = check_notifications(template, verbose)
    problems += rule_problems + s3_problems
    # Each known-wrong filter is caught (the check is not vacuous).
    for change in MUTATIONS:
        bad = mutated(template, change)
        if not (check_rule(bad, Matcher(), False)[0] + check_notifications(bad, False)[0]):
            problems.append(f"mutation {change!r} of the template went unnoticed")
    summary = (
        f"ReportCreatedRule ({rule_n} events, moto's EventBridge matcher) and BillingBucket's "
        f"notifications ({s3_n} keys, no overlapping configurations), report prefixes {PREFIXES}; "
        f"{len(MUTATIONS)} wrong filters caught"
    )
    return problems, summary


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("--template", default=str(st.DEFAULT_TEMPLATE))
    p.add_argument("-v", "--verbose", action="store_true", help="print every key and its outcome")
    args = p.parse_args(argv)
    try:
        template = st.load_template(args.template)
    except st.TemplateError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    problems, summary = check(template, args.verbose)
    for line in problems:
        print(f"{PROG}: {line}", file=sys.stderr)
    if problems:
        print(f"{PROG}: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"{PROG}: OK: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
