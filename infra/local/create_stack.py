#!/usr/bin/env python3
"""Create billwatch's stack in the local AWS emulator, from template.yaml itself.

    eval "$(infra/local/create_stack.py)"          # inside infra/local/with-stack.sh
    infra/local/create_stack.py --stack-name billwatch --template template.yaml

Against $AWS_ENDPOINT_URL (never real AWS: it refuses to run without an endpoint) it creates
what the template declares and the function uses:

  * every AWS::S3::Bucket (its BucketName; versioning and default encryption as declared),
  * every AWS::DynamoDB::Table (KeySchema, AttributeDefinitions, GlobalSecondaryIndexes,
    LocalSecondaryIndexes, BillingMode, TimeToLiveSpecification),
  * the SNS topic that BILLWATCH_ALERT_TOPIC_ARN points at (TopicName, KmsMasterKeyId, ...),
  * an SQS queue <stack>-alerts-inbox subscribed to that topic with RawMessageDelivery off,
    so tests read the SNS envelope (Subject, MessageAttributes) from it.

Idempotent: existing resources are reused, and an existing table that differs from the
template is an error (reset the emulator: POST $AWS_ENDPOINT_URL/moto-api/reset).

stdout carries only `export NAME=VALUE` lines (shell-quoted): the function's environment
(BILLWATCH_*_TABLE, BILLWATCH_ALERT_TOPIC_ARN, BILLWATCH_BUCKET) plus
BILLWATCH_ALERTS_QUEUE_URL. Errors go to stderr, with exit status 1 (2 for bad usage).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path
from typing import NoReturn

sys.dont_write_bytecode = True  # keep the work tree free of __pycache__
sys.path.insert(0, str(Path(__file__).resolve().parent))

import stack_template as st  # noqa: E402

PROG = "create_stack.py"


def log(msg: str) -> None:
    print(f"{PROG}: {msg}", file=sys.stderr)


def fail(msg: str, code: int = 1) -> NoReturn:
    print(f"{PROG}: error: {msg}", file=sys.stderr)
    sys.exit(code)


# --------------------------------------------------------------------------------------------
# boto3 clients for the emulator (shared with parity_check.py / s3_event.py)
# --------------------------------------------------------------------------------------------


def emulator_endpoint(arg: str | None) -> str:
    endpoint = arg or os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        raise st.TemplateError(
            "no emulator endpoint: set AWS_ENDPOINT_URL (infra/local/with-stack.sh does) or pass "
            "--endpoint-url; this script never talks to real AWS"
        )
    return endpoint.rstrip("/")


def clients(endpoint: str, region: str):
    """boto3 clients for S3 (path style), DynamoDB, SNS, SQS, STS and EventBridge at `endpoint`."""
    import boto3
    from botocore.config import Config

    # The emulator is local: keep any HTTP(S)_PROXY of the caller away from it.
    no_proxy = ",".join(x for x in ("127.0.0.1", "localhost", os.environ.get("NO_PROXY", "")) if x)
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = no_proxy
    creds = {}
    if not os.environ.get("AWS_ACCESS_KEY_ID"):
        creds = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    session = boto3.session.Session(region_name=region, **creds)
    config = Config(
        s3={"addressing_style": "path"},
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=30,
    )

    def make(service: str):
        return session.client(service, endpoint_url=endpoint, config=config)

    return {name: make(name) for name in ("s3", "dynamodb", "sns", "sqs", "sts", "events")}


def account_id(sts, override: str | None) -> str:
    if override:
        return override
    return sts.get_caller_identity()["Account"]


# --------------------------------------------------------------------------------------------
# Resources
# --------------------------------------------------------------------------------------------


def ensure_bucket(s3, bucket: st.BucketSpec, region: str) -> None:
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=bucket.name)
        log(f"bucket {bucket.name}: exists")
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise
        kwargs = {"Bucket": bucket.name}
        if region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            s3.create_bucket(**kwargs)
            log(f"bucket {bucket.name}: created")
        except ClientError as e2:
            if e2.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
                raise
    if bucket.versioning:
        s3.put_bucket_versioning(Bucket=bucket.name, VersioningConfiguration={"Status": bucket.versioning})
    if bucket.sse_algorithm == "AES256":
        s3.put_bucket_encryption(
            Bucket=bucket.name,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )


def _create_table_request(t: st.TableSpec) -> dict:
    def index(ix: st.IndexSpec, provisioned: bool) -> dict:
        projection = {"ProjectionType": ix.projection}
        if ix.non_key:
            projection["NonKeyAttributes"] = ix.non_key
        out = {
            "IndexName": ix.name,
            "KeySchema": [{"AttributeName": a, "KeyType": k} for a, k in ix.keys],
            "Projection": projection,
        }
        if provisioned:
            out["ProvisionedThroughput"] = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        return out

    provisioned = t.billing_mode != "PAY_PER_REQUEST"
    req = {
        "TableName": t.name,
        "KeySchema": [{"AttributeName": a, "KeyType": k} for a, k in t.keys],
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": ty} for a, ty in t.attributes.items()],
        "BillingMode": t.billing_mode,
    }
    if provisioned:
        req["ProvisionedThroughput"] = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    if t.gsis:
        req["GlobalSecondaryIndexes"] = [index(ix, provisioned) for ix in t.gsis.values()]
    if t.lsis:
        req["LocalSecondaryIndexes"] = [index(ix, False) for ix in t.lsis.values()]
    return req


def ensure_table(ddb, t: st.TableSpec) -> None:
    from botocore.exceptions import ClientError

    try:
        described = ddb.describe_table(TableName=t.name)["Table"]
        existed = True
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
        existed = False
    if not existed:
        try:
            ddb.create_table(**_create_table_request(t))
            log(f"table {t.name}: created")
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") != "ResourceInUseException":
                raise  # ResourceInUse: created concurrently; checked below
        ddb.get_waiter("table_exists").wait(TableName=t.name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        described = ddb.describe_table(TableName=t.name)["Table"]
    else:
        log(f"table {t.name}: exists")

    ttl = ddb.describe_time_to_live(TableName=t.name)["TimeToLiveDescription"]
    if t.ttl and ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        ddb.update_time_to_live(TableName=t.name, TimeToLiveSpecification={"AttributeName": t.ttl, "Enabled": True})
        ttl = ddb.describe_time_to_live(TableName=t.name)["TimeToLiveDescription"]

    problems = st.diff_table(t, described, ttl)
    if problems:
        fail(
            "the emulator's table does not match template.yaml:\n  "
            + "\n  ".join(problems)
            + "\n(an earlier run with another template? reset the emulator: "
            "curl -X POST $AWS_ENDPOINT_URL/moto-api/reset)"
        )


def ensure_topic(sns, topic: st.TopicSpec) -> str:
    arn = sns.create_topic(Name=topic.name, Attributes=topic.attributes)["TopicArn"]
    if arn != topic.arn:
        fail(f"topic {topic.name}: the emulator made {arn}, the template implies {topic.arn} (account/region?)")
    problems = st.diff_topic(topic, sns.get_topic_attributes(TopicArn=arn)["Attributes"])
    if problems:
        fail("the emulator's topic does not match template.yaml:\n  " + "\n  ".join(problems))
    log(f"topic {arn}: ready")
    return arn


def ensure_inbox(sqs, sns, name: str, topic_arn: str) -> str:
    """An SQS queue subscribed to the topic, envelope kept (RawMessageDelivery false)."""
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TopicDelivers",
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})

    subscriptions = []
    kwargs = {"TopicArn": topic_arn}
    while True:
        page = sns.list_subscriptions_by_topic(**kwargs)
        subscriptions += [s for s in page.get("Subscriptions", []) if s.get("Endpoint") == queue_arn]
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    if subscriptions:
        sub_arn = subscriptions[0]["SubscriptionArn"]
        for extra in subscriptions[1:]:  # a duplicate would deliver every alert twice
            sns.unsubscribe(SubscriptionArn=extra["SubscriptionArn"])
    else:
        sub_arn = sns.subscribe(
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "false"},
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
    sns.set_subscription_attributes(
        SubscriptionArn=sub_arn, AttributeName="RawMessageDelivery", AttributeValue="false"
    )
    log(f"queue {name}: subscribed to {topic_arn}")
    return url


# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("--stack-name", default=st.DEFAULT_STACK, help="stack name (default: %(default)s)")
    p.add_argument("--template", default=str(st.DEFAULT_TEMPLATE), help="SAM template (default: the repo's)")
    p.add_argument("--endpoint-url", help="emulator endpoint (default: $AWS_ENDPOINT_URL)")
    p.add_argument("--region", help="default: $AWS_REGION, $AWS_DEFAULT_REGION or us-east-1")
    p.add_argument("--account-id", help="${AWS::AccountId} (default: the emulator's, from STS)")
    p.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="template parameter override (repeatable)",
    )
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        params = dict(kv.split("=", 1) for kv in args.parameter)
    except ValueError:
        fail("--parameter takes NAME=VALUE", 2)
    try:
        stack = st.check_stack_name(args.stack_name)
        template = st.load_template(args.template)
        endpoint = emulator_endpoint(args.endpoint_url)
        region = args.region or st.region_from_env()
    except st.TemplateError as e:
        fail(str(e), 2)

    from botocore.exceptions import BotoCoreError, ClientError

    try:
        c = clients(endpoint, region)
        account = account_id(c["sts"], args.account_id)
        spec = st.stack_spec(template, stack, account, region, params)
        for bucket in spec.buckets:
            ensure_bucket(c["s3"], bucket, region)
        for table in spec.tables:
            ensure_table(c["dynamodb"], table)
        for topic in spec.topics:
            ensure_topic(c["sns"], topic)
        queue_url = ensure_inbox(c["sqs"], c["sns"], f"{stack}-alerts-inbox", spec.env[st.ENV_TOPIC])
    except st.TemplateError as e:
        fail(f"{args.template}: {e}")
    except ClientError as e:
        err = e.response.get("Error", {})
        fail(f"{e.operation_name} failed at {endpoint}: {err.get('Code')}: {err.get('Message')}")
    except BotoCoreError as e:
        fail(f"cannot talk to the emulator at {endpoint}: {e}")

    exports = {name: spec.env[name] for name in st.ENV_VARS}
    exports["BILLWATCH_ALERTS_QUEUE_URL"] = queue_url
    sys.stdout.write("".join(f"export {k}={shlex.quote(v)}\n" for k, v in exports.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
