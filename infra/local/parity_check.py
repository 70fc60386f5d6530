#!/usr/bin/env python3
"""Check that the running emulator holds what template.yaml declares.

    infra/local/parity_check.py [--stack-name billwatch] [--template template.yaml] [--check-env]
                                [--parameter NAME=VALUE ...]

Compares, for the stack name given:
  * each AWS::DynamoDB::Table: it exists under its TableName; key schema (attribute and
    HASH/RANGE, in order); attribute types; billing mode; each GSI and LSI (name, key schema,
    projection) and no extra index; the TTL attribute (or TTL off);
  * the SNS topic BILLWATCH_ALERT_TOPIC_ARN points at: it exists under its TopicName, with the
    template's DisplayName / KmsMasterKeyId;
  * each AWS::S3::Bucket: it is in the bucket listing under its BucketName, with the
    template's versioning status; with --parameter ExistingBucketName=NAME, that bucket (the
    function's BILLWATCH_BUCKET) is in the listing;
  * with --check-env: the BILLWATCH_* variables of this process equal the names the template
    gives (what create_stack.py exports);
  * with ExistingBucketName: the EventBridge rule's pattern, resolved, against sample events
    (a rule created in the emulator with a queue as its target): report keys of the bucket under ReportPrefix match; CUR
    data parts, other buckets, other prefixes and deletions do not.

Exit status: 0 when everything agrees (a summary line on stdout); 1 with one line per
mismatch on stderr ("parity_check.py: MISMATCH ..."); 2 when it cannot run (no endpoint,
unreadable template, emulator down).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))

import stack_template as st  # noqa: E402
from create_stack import account_id, clients, emulator_endpoint, emulator_errors, stack_parser  # noqa: E402

PROG = "parity_check.py"


def fail(msg: str, code: int = 2) -> NoReturn:
    print(f"{PROG}: error: {msg}", file=sys.stderr)
    sys.exit(code)


def check_tables(ddb, spec: st.StackSpec) -> list[str]:
    from botocore.exceptions import ClientError

    out = []
    listed: list[str] = []
    kwargs: dict = {}
    while True:
        page = ddb.list_tables(**kwargs)
        listed += page.get("TableNames", [])
        if not page.get("LastEvaluatedTableName"):
            break
        kwargs["ExclusiveStartTableName"] = page["LastEvaluatedTableName"]
    for t in spec.tables:
        if t.name not in listed:
            near = [n for n in listed if n.endswith(t.name.rsplit("-", 1)[-1])]
            out.append(
                f"table {t.name} ({t.logical}): missing from the emulator"
                + (f" (tables there with the same suffix: {', '.join(near)})" if near else "")
            )
            continue
        try:
            described = ddb.describe_table(TableName=t.name)["Table"]
            ttl = ddb.describe_time_to_live(TableName=t.name)["TimeToLiveDescription"]
        except ClientError as e:
            out.append(f"table {t.name} ({t.logical}): {e.response.get('Error', {}).get('Message', e)}")
            continue
        out += st.diff_table(t, described, ttl)
    return out


def check_topics(sns, spec: st.StackSpec) -> list[str]:
    from botocore.exceptions import ClientError

    out = []
    for topic in spec.topics:
        try:
            attributes = sns.get_topic_attributes(TopicArn=topic.arn)["Attributes"]
        except ClientError as e:
            code = e.response.get("Error", {}).get("Code")
            if code in ("NotFound", "NotFoundException"):
                out.append(f"topic {topic.name} ({topic.logical}): missing from the emulator ({topic.arn})")
            else:
                out.append(f"topic {topic.name} ({topic.logical}): {code}: {e}")
            continue
        out += st.diff_topic(topic, attributes)
    return out


def check_buckets(s3, spec: st.StackSpec) -> list[str]:
    out = []
    listed = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for b in spec.buckets:
        where = f"bucket {b.name} ({b.logical})"
        if b.name not in listed:
            out.append(f"{where}: missing from the emulator's bucket listing {sorted(listed)}")
            continue
        if b.external:
            continue  # an existing bucket: its settings are its owner's, not the template's
        got = s3.get_bucket_versioning(Bucket=b.name).get("Status")
        if (b.versioning or None) != (got or None):
            out.append(f"{where}: versioning: template {b.versioning or 'off'}, emulator {got or 'off'}")
    return out


EVENTS_DIR = Path(__file__).resolve().parent / "events"
RULE = "ReportCreatedRule"


def rule_cases(bucket: str, prefix: str) -> list[tuple[str, dict, bool]]:
    """(what, event, should match) for the existing-bucket rule: EventBridge events in the shape
    of events/eventbridge-put-encoded-key.json, keys URL-encoded as S3 sends them."""
    import copy
    import json
    import urllib.parse

    base = json.loads((EVENTS_DIR / "eventbridge-put-encoded-key.json").read_text(encoding="utf-8"))

    def event(key: str, *, in_bucket: str = bucket, detail_type: str = "Object Created") -> dict:
        e = copy.deepcopy(base)
        e["detail-type"] = detail_type
        e["resources"] = [f"arn:aws:s3:::{in_bucket}"]
        e["detail"]["bucket"]["name"] = in_bucket
        e["detail"]["object"]["key"] = urllib.parse.quote_plus(key, safe="/")
        return e

    cases = [
        ("a legacy report under the prefix", event(f"{prefix}Nov 2026/123456789012-aws-billing-csv-2026-11.csv"), True),
        ("a DBR zip under the prefix", event(f"{prefix}123456789012-aws-billing-detailed-line-items-2026-11.csv.zip"), True),
        ("a CUR manifest under the prefix", event(f"{prefix}r/20261101-20261201/r-Manifest.json"), True),
        ("a CUR data part", event(f"{prefix}r/20261101-20261201/abc/r-1.csv.gz"), False),
        ("a Redshift manifest", event(f"{prefix}r/20261101-20261201/r-RedshiftManifest.json"), False),
        ("a report in another bucket", event(f"{prefix}x.csv", in_bucket=f"{bucket}-other"), False),
        ("a deleted report", event(f"{prefix}x.csv", detail_type="Object Deleted"), False),
    ]
    if prefix:
        cases.append(("a report outside the prefix", event("elsewhere/x.csv"), False))
    return cases


def check_rules(c: dict, template: dict, spec: st.StackSpec, params: dict[str, str]) -> tuple[list[str], int]:
    """The existing-bucket rule's pattern, resolved, against sample events: the rule is created
    in the emulator with an SQS queue as its target, the events are put on the default bus, and
    the queue must hold exactly the bucket's report keys under the prefix. Returns the problems
    and the number of cases checked (0 when the rule is not deployed)."""
    import json

    res = st.Resolver(template, spec.stack_name, spec.account, spec.region, params)
    if RULE not in res.resources or not res.resource_enabled(RULE):
        return [], 0
    props = res.resources[RULE].get("Properties") or {}
    pattern = res.resolve(props.get("EventPattern"))
    name = res.resolve(props.get("Name")) if "Name" in props else f"{spec.stack_name}-{RULE}"
    bucket = str(res.params.get(st.EXISTING_BUCKET_PARAM) or "")
    prefix = str(res.params.get("ReportPrefix") or "")
    events, sqs = c["events"], c["sqs"]
    queue_url = sqs.create_queue(QueueName=f"{name}-check")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.purge_queue(QueueUrl=queue_url)
    events.put_rule(Name=name, EventPattern=json.dumps(pattern), State="ENABLED")
    events.put_targets(Rule=name, Targets=[{"Id": "check", "Arn": queue_arn}])
    cases = rule_cases(bucket, prefix)
    for i, (_, event, _) in enumerate(cases):
        detail = dict(event["detail"], **{"request-id": f"case-{i}"})
        events.put_events(
            Entries=[
                {
                    "Source": event["source"],
                    "DetailType": event["detail-type"],
                    "Resources": event["resources"],
                    "Detail": json.dumps(detail),
                }
            ]
        )
    matched: set[int] = set()
    while True:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not got:
            break
        for m in got:
            request_id = json.loads(m["Body"]).get("detail", {}).get("request-id", "")
            if request_id.startswith("case-"):
                matched.add(int(request_id[5:]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
    events.remove_targets(Rule=name, Ids=["check"])
    events.delete_rule(Name=name)
    out = []
    for i, (what, event, want) in enumerate(cases):
        if (i in matched) != want:
            key = event["detail"]["object"]["key"]
            out.append(f"rule {RULE}: {what} ({key}) {'does not match' if want else 'matches'}")
    return out, len(cases)


def check_env(spec: st.StackSpec) -> list[str]:
    out = []
    for name in st.ENV_VARS:
        got = os.environ.get(name)
        if got != spec.env[name]:
            out.append(f"environment {name}: template {spec.env[name]!r}, process {got!r}")
    return out


def main(argv: list[str]) -> int:
    p = stack_parser(PROG, __doc__)
    p.add_argument("--check-env", action="store_true", help="also compare this process's BILLWATCH_* variables")
    args = p.parse_args(argv)
    try:
        params = dict(kv.split("=", 1) for kv in args.parameter)
    except ValueError:
        fail("--parameter takes NAME=VALUE")

    try:
        stack = st.check_stack_name(args.stack_name)
        template = st.load_template(args.template)
        endpoint = emulator_endpoint(args.endpoint_url)
    except st.TemplateError as e:
        fail(str(e))
    region = args.region or st.region_from_env()
    with emulator_errors(args.template, endpoint, fail):
        c = clients(endpoint, region)
        spec = st.stack_spec(template, stack, account_id(c["sts"], args.account_id), region, params)
        problems = check_tables(c["dynamodb"], spec)
        problems += check_topics(c["sns"], spec)
        problems += check_buckets(c["s3"], spec)
        rule_problems, rule_cases_checked = check_rules(c, template, spec, params)
        problems += rule_problems
        if args.check_env:
            problems += check_env(spec)

    if problems:
        for line in problems:
            print(f"{PROG}: MISMATCH {line}", file=sys.stderr)
        print(f"{PROG}: {len(problems)} mismatch(es) between {args.template} and the emulator", file=sys.stderr)
        return 1
    print(
        f"{PROG}: OK: {len(spec.tables)} tables ({', '.join(t.name for t in spec.tables)}), "
        f"{len(spec.topics)} topic(s) ({', '.join(t.name for t in spec.topics)}), "
        f"{len(spec.buckets)} bucket(s) ({', '.join(b.name for b in spec.buckets)}) match the template"
        + (f"; environment of {', '.join(sorted(spec.functions))} consistent" if spec.functions else "")
        + ("; BILLWATCH_* of this process match" if args.check_env else "")
        + (f"; rule {RULE} matches {rule_cases_checked} sample events as it should" if rule_cases_checked else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
