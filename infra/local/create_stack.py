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
    so tests read the SNS envelope (Subject, MessageAttributes) from it,
  * the template's other SNS topics (the operations topic) by name, without their KMS key,
  * what `billwatch doctor` checks besides: each function as a stub that is never run (named
    as CloudFormation names it, <stack>-<LogicalId>-local, with the template's runtime, memory,
    timeout and resolved environment, and a role <stack>-<LogicalId>Role-local), the stack's
    own bucket's S3 notifications to the ingest stub (the template's events and filters), and
    the health check's schedule rules (<stack>-<Function><Event>-local). Nothing invokes the
    stubs with a report: the tests run the ingest themselves. With ExistingBucketName the
    EventBridge rule is not created (parity_check.py creates and deletes it under that name).

Idempotent: existing resources are reused, and an existing table that differs from the
template is an error (reset the emulator: POST $AWS_ENDPOINT_URL/moto-api/reset).

stdout carries only `export NAME=VALUE` lines (shell-quoted): the function's environment
(BILLWATCH_*_TABLE, BILLWATCH_ALERT_TOPIC_ARN, BILLWATCH_BUCKET) plus
BILLWATCH_ALERTS_QUEUE_URL. Errors go to stderr, with exit status 1 (2 for bad usage).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import sys
from pathlib import Path
from typing import Callable, Iterator, NoReturn

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


@contextlib.contextmanager
def emulator_errors(template: str, endpoint: str, fail: Callable[[str], NoReturn]) -> Iterator[None]:
    """Ends the script with one line for a template that cannot be resolved or a failed call
    to the emulator (shared with parity_check.py)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except st.TemplateError as e:
        fail(f"{template}: {e}")
    except ClientError as e:
        err = e.response.get("Error", {})
        fail(f"{e.operation_name} failed at {endpoint}: {err.get('Code')}: {err.get('Message')}")
    except BotoCoreError as e:
        fail(f"cannot talk to the emulator at {endpoint}: {e}")


def emulator_endpoint(arg: str | None) -> str:
    endpoint = arg or os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        raise st.TemplateError(
            "no emulator endpoint: set AWS_ENDPOINT_URL (infra/local/with-stack.sh does) or pass "
            "--endpoint-url; this script never talks to real AWS"
        )
    return endpoint.rstrip("/")


def clients(endpoint: str, region: str):
    """boto3 clients for S3 (path style), DynamoDB, SNS, SQS, STS, EventBridge, IAM and Lambda at
    `endpoint`."""
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

    return {name: make(name) for name in ("s3", "dynamodb", "sns", "sqs", "sts", "events", "iam", "lambda")}


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


def ensure_other_topics(sns, template: dict, spec: st.StackSpec, params: dict[str, str]) -> None:
    """Every other enabled AWS::SNS::Topic of the template (the operations topic), by its name
    alone: its KMS key is not modelled locally."""
    res = st.Resolver(template, spec.stack_name, spec.account, spec.region, params)
    made = {t.logical for t in spec.topics}
    for logical, r in res.resources.items():
        if r.get("Type") != "AWS::SNS::Topic" or logical in made or not res.resource_enabled(logical):
            continue
        arn = sns.create_topic(Name=res.physical_id(logical).rsplit(":", 1)[1])["TopicArn"]
        log(f"topic {arn}: ready (no KMS key locally)")


# A zip with a `bootstrap` that is never run: the emulator invokes nothing with docker here.
def _stub_zip() -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("bootstrap", "#!/bin/sh\necho 'billwatch local stub: not run'\nexit 1\n")
    return buf.getvalue()


def ensure_functions(iam, lam, template: dict, spec: st.StackSpec, params: dict[str, str]) -> dict[str, str]:
    """Each function of the template as a stub named <stack>-<LogicalId>-local, with the
    template's runtime, memory, timeout, architectures and environment (resolved), and a role.
    Returns logical id -> function ARN."""
    from botocore.exceptions import ClientError

    res = st.Resolver(template, spec.stack_name, spec.account, spec.region, params)
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    arns = {}
    for logical, r in res.resources.items():
        if r.get("Type") not in st.FUNCTION_TYPES or not res.resource_enabled(logical):
            continue
        props = r.get("Properties") or {}
        role_name = f"{spec.stack_name}-{logical.removesuffix('Function')}Role-local"[:64]
        try:
            role_arn = iam.get_role(RoleName=role_name)["Role"]["Arn"]
        except ClientError:
            role_arn = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        name = f"{spec.stack_name}-{logical}-local"
        variables = {k: str(res.resolve(v)) for k, v in ((props.get("Environment") or {}).get("Variables") or {}).items()}
        settings = {
            "Runtime": str(res.resolve(props.get("Runtime", "provided.al2023"))),
            "Role": role_arn,
            "Handler": str(res.resolve(props.get("Handler", "bootstrap"))),
            "MemorySize": int(res.resolve(props.get("MemorySize", 128))),
            "Timeout": int(res.resolve(props.get("Timeout", 3))),
            "Environment": {"Variables": variables},
        }
        try:
            arn = lam.get_function_configuration(FunctionName=name)["FunctionArn"]
            lam.update_function_configuration(FunctionName=name, **settings)
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            arn = lam.create_function(
                FunctionName=name,
                Code={"ZipFile": _stub_zip()},
                Architectures=[str(a) for a in res.resolve(props.get("Architectures", ["x86_64"]))],
                **settings,
            )["FunctionArn"]
        arns[logical] = arn
        log(f"function {name}: stub ready")
    return arns


def ensure_notifications(s3, template: dict, spec: st.StackSpec, params: dict[str, str], functions: dict[str, str]) -> None:
    """The S3 notifications of the stack's own bucket (not of an existing one), with the
    template's events and filters, to the function stubs."""
    res = st.Resolver(template, spec.stack_name, spec.account, spec.region, params)
    for logical, r in res.resources.items():
        if r.get("Type") != "AWS::S3::Bucket" or not res.resource_enabled(logical):
            continue
        configs = (((r.get("Properties") or {}).get("NotificationConfiguration")) or {}).get("LambdaConfigurations") or []
        out = []
        for c in configs:
            function = c.get("Function")
            target = function.get("Fn::GetAtt", [None])[0] if isinstance(function, dict) else None
            if target not in functions:
                raise st.TemplateError(f"{logical}: a notification's Function is not !GetAtt of a function of the template")
            rules = res.resolve((c.get("Filter") or {}).get("S3Key", {}).get("Rules", []))
            entry = {"LambdaFunctionArn": functions[target], "Events": [res.resolve(c["Event"])]}
            if rules:
                entry["Filter"] = {"Key": {"FilterRules": [{"Name": x["Name"], "Value": x["Value"]} for x in rules]}}
            out.append(entry)
        if out:
            bucket = res.physical_id(logical)
            s3.put_bucket_notification_configuration(
                Bucket=bucket, NotificationConfiguration={"LambdaFunctionConfigurations": out}
            )
            log(f"bucket {bucket}: {len(out)} notification(s) to the ingest stub")


def ensure_schedules(events, template: dict, spec: st.StackSpec, params: dict[str, str], functions: dict[str, str]) -> None:
    """The functions' SAM `Schedule` events as rules named <stack>-<Function><Event>-local."""
    res = st.Resolver(template, spec.stack_name, spec.account, spec.region, params)
    for logical, arn in functions.items():
        for event, spec_ in (((res.resources[logical].get("Properties") or {}).get("Events")) or {}).items():
            if spec_.get("Type") != "Schedule":
                continue
            props = spec_.get("Properties") or {}
            name = f"{spec.stack_name}-{logical}{event}-local"[:64]
            enabled = str(res.resolve(props.get("Enabled", True))).lower() == "true"
            events.put_rule(
                Name=name,
                ScheduleExpression=str(res.resolve(props["Schedule"])),
                # Emulator only: moto hands every PutEvents event to each rule without a pattern
                # (enabled or not) and fails the whole call on a Lambda target, which would
                # break every PutEvents on the default bus. A pattern that matches nothing
                # keeps the schedule rule out of that; nothing here fires schedules anyway.
                EventPattern=json.dumps({"source": ["billwatch.local.schedule-only"]}),
                State="ENABLED" if enabled else "DISABLED",
            )
            target = {"Id": "function", "Arn": arn}
            if "Input" in props:
                target["Input"] = str(res.resolve(props["Input"]))
            events.put_targets(Rule=name, Targets=[target])
            log(f"rule {name}: schedule for the {logical} stub")


# --------------------------------------------------------------------------------------------


def stack_parser(prog: str, doc: str) -> argparse.ArgumentParser:
    """The arguments that name a stack in the emulator (shared with parity_check.py)."""
    p = argparse.ArgumentParser(prog=prog, description=doc.split("\n\n")[0])
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
    return p


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = stack_parser(PROG, __doc__)
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

    with emulator_errors(args.template, endpoint, fail):
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
        ensure_other_topics(c["sns"], template, spec, params)
        functions = ensure_functions(c["iam"], c["lambda"], template, spec, params)
        ensure_notifications(c["s3"], template, spec, params, functions)
        ensure_schedules(c["events"], template, spec, params, functions)

    exports = {name: spec.env[name] for name in st.ENV_VARS}
    exports["BILLWATCH_ALERTS_QUEUE_URL"] = queue_url
    sys.stdout.write("".join(f"export {k}={shlex.quote(v)}\n" for k, v in exports.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
