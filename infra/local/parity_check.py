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
    gives (what create_stack.py exports).

Exit status: 0 when everything agrees (a summary line on stdout); 1 with one line per
mismatch on stderr ("parity_check.py: MISMATCH ..."); 2 when it cannot run (no endpoint,
unreadable template, emulator down).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import NoReturn

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))

import stack_template as st  # noqa: E402
from create_stack import account_id, clients, emulator_endpoint  # noqa: E402

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


def check_env(spec: st.StackSpec) -> list[str]:
    out = []
    for name in st.ENV_VARS:
        got = os.environ.get(name)
        if got != spec.env[name]:
            out.append(f"environment {name}: template {spec.env[name]!r}, process {got!r}")
    return out


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("--stack-name", default=st.DEFAULT_STACK, help="stack name (default: %(default)s)")
    p.add_argument("--template", default=str(st.DEFAULT_TEMPLATE), help="SAM template (default: the repo's)")
    p.add_argument("--endpoint-url", help="emulator endpoint (default: $AWS_ENDPOINT_URL)")
    p.add_argument("--region", help="default: $AWS_REGION, $AWS_DEFAULT_REGION or us-east-1")
    p.add_argument("--account-id", help="${AWS::AccountId} (default: the emulator's, from STS)")
    p.add_argument("--check-env", action="store_true", help="also compare this process's BILLWATCH_* variables")
    p.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="template parameter override (repeatable), as given to create_stack.py",
    )
    args = p.parse_args(argv)
    try:
        params = dict(kv.split("=", 1) for kv in args.parameter)
    except ValueError:
        fail("--parameter takes NAME=VALUE")

    from botocore.exceptions import BotoCoreError, ClientError

    try:
        stack = st.check_stack_name(args.stack_name)
        template = st.load_template(args.template)
        endpoint = emulator_endpoint(args.endpoint_url)
    except st.TemplateError as e:
        fail(str(e))
    region = args.region or st.region_from_env()
    try:
        c = clients(endpoint, region)
        spec = st.stack_spec(template, stack, account_id(c["sts"], args.account_id), region, params)
        problems = check_tables(c["dynamodb"], spec)
        problems += check_topics(c["sns"], spec)
        problems += check_buckets(c["s3"], spec)
        if args.check_env:
            problems += check_env(spec)
    except st.TemplateError as e:
        fail(f"{args.template}: {e}")
    except ClientError as e:
        err = e.response.get("Error", {})
        fail(f"{e.operation_name} failed at {endpoint}: {err.get('Code')}: {err.get('Message')}")
    except BotoCoreError as e:
        fail(f"cannot talk to the emulator at {endpoint}: {e}")

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
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
