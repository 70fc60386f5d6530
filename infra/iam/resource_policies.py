#!/usr/bin/env python3
"""The template's resource policies, evaluated by a real IAM policy evaluator.

    infra/iam/resource_policies.py [--template template.yaml] [-v]

The local emulator stores bucket, queue and key policies and Lambda permissions but enforces
none of them. This check resolves template.yaml for every deployment mode of policies.MODES
(the permissions check's four), takes each resource policy that mode deploys, and asks
@cloud-copilot/iam-simulate (simulate.mjs, the evaluator of check_calls.py) for a set of
requests each:

  * allowed: the service that must use the resource (billingreports and bcm-data-exports on
    the bucket, s3 or events invoking the function, events sending to the failure queue,
    cloudwatch using the ops topic's key), with this account's aws:SourceAccount and the
    right aws:SourceArn, over TLS;
  * denied: another source account, another source ARN, no aws:SourceArn at all, another
    service principal, an action the service does not need, an IAM user of another account,
    and for the bucket plain HTTP (aws:SecureTransport false, explicitly denied even for the
    ingest role that may read it).

Lambda permissions (AWS::Lambda::Permission) are turned into the function policy statement
Lambda writes for them (Principal, Action, the function's ARN, AWS:SourceAccount StringEquals,
AWS:SourceArn ArnLike), as GetPolicy shows it. The ops topic has no topic policy: SNS's default
one admits the account's own principals and its CloudWatch alarms; check_topic_policies fails
if a topic policy for it appears without a CloudWatch statement.

Each case is run in every mode where its resource exists; a mutation of each policy (a
condition removed) must turn some denied case into an allowed one, so the cases are not
vacuous. Exit status 0 when every answer is as expected, 1 otherwise.
"""

from __future__ import annotations

import argparse
import copy
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))

import policies as pol  # noqa: E402
import stack_template as st  # noqa: E402

PROG = "resource_policies.py"
ACCOUNT = pol.ACCOUNT
REGION = pol.REGION
OTHER = "999988887777"
ALLOWED = "Allowed"


@dataclass
class Case:
    what: str
    principal: str
    action: str
    resource: str
    context: dict[str, Any] = field(default_factory=dict)
    want: str = ALLOWED  # Allowed, Denied (implicitly or explicitly) or ExplicitlyDenied
    identity: list[str] = field(default_factory=list)


def lambda_permission_statement(r: st.Resolver, props: dict[str, Any]) -> dict[str, Any]:
    """The statement Lambda adds to the function's policy for an AWS::Lambda::Permission."""
    props = r.resolve(props)
    statement: dict[str, Any] = {
        "Sid": "permission",
        "Effect": "Allow",
        "Principal": {"Service": props["Principal"]},
        "Action": props["Action"],
        "Resource": props["FunctionName"],
    }
    condition: dict[str, Any] = {}
    if "SourceAccount" in props:
        condition.setdefault("StringEquals", {})["AWS:SourceAccount"] = props["SourceAccount"]
    if "SourceArn" in props:
        condition.setdefault("ArnLike", {})["AWS:SourceArn"] = props["SourceArn"]
    if condition:
        statement["Condition"] = condition
    return statement


def document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statements}


def tls(ctx: dict[str, Any] | None = None, secure: bool = True) -> dict[str, Any]:
    return {**(ctx or {}), "aws:SecureTransport": "true" if secure else "false"}


def other_user() -> str:
    return f"arn:aws:iam::{OTHER}:user/mallory"


def cases_for(mode: pol.Mode, template: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[Case]]]:
    """The policies of `mode` (name -> document) and, per resource policy name, its cases."""
    r = mode.r
    res = template["Resources"]
    p = r.partition
    docs: dict[str, Any] = {}
    cases: dict[str, list[Case]] = {}

    # The ops topic's key, in every mode.
    key = res["OpsTopicKey"]["Properties"]["KeyPolicy"]
    docs["OpsTopicKey"] = r.resolve(key)
    key_arn = f"arn:{p}:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    alarm = f"arn:{p}:cloudwatch:{REGION}:{ACCOUNT}:alarm:{pol.STACK}-IngestErrorsAlarm-1A2B3C4D5E6F"
    good = {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": alarm}
    cw = "cloudwatch.amazonaws.com"
    docs["account-admin"] = document([{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}])
    cases["OpsTopicKey"] = [
        Case("CloudWatch alarm of this account: GenerateDataKey", cw, "kms:GenerateDataKey", key_arn, good),
        Case("CloudWatch alarm of this account: Decrypt", cw, "kms:Decrypt", key_arn, good),
        Case("CloudWatch for another account", cw, "kms:GenerateDataKey", key_arn,
             {"aws:SourceAccount": OTHER, "aws:SourceArn": alarm.replace(ACCOUNT, OTHER)}, "Denied"),
        Case("CloudWatch, this account, another account's alarm ARN", cw, "kms:GenerateDataKey", key_arn,
             {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": alarm.replace(ACCOUNT, OTHER)}, "Denied"),
        Case("CloudWatch without aws:SourceArn", cw, "kms:GenerateDataKey", key_arn,
             {"aws:SourceAccount": ACCOUNT}, "Denied"),
        Case("CloudWatch for a resource that is not an alarm", cw, "kms:GenerateDataKey", key_arn,
             {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": f"arn:{p}:cloudwatch:{REGION}:{ACCOUNT}:dashboard/x"},
             "Denied"),
        Case("CloudWatch: an action it does not need (Encrypt)", cw, "kms:Encrypt", key_arn, good, "Denied"),
        Case("CloudWatch: ScheduleKeyDeletion", cw, "kms:ScheduleKeyDeletion", key_arn, good, "Denied"),
        Case("EventBridge, another service", "events.amazonaws.com", "kms:GenerateDataKey", key_arn, good, "Denied"),
        Case("an IAM user of another account", other_user(), "kms:Decrypt", key_arn, {}, "Denied",
             ["account-admin"]),
        Case("a role of this account whose IAM policy allows it (the key delegates to IAM)",
             f"arn:{p}:iam::{ACCOUNT}:role/admin", "kms:Decrypt", key_arn, {}, ALLOWED, ["account-admin"]),
        Case("a role of this account without an IAM policy for it",
             f"arn:{p}:iam::{ACCOUNT}:role/other", "kms:Decrypt", key_arn, {}, "Denied"),
    ]

    if r.resource_enabled("BillingBucketPolicy"):
        docs["BillingBucketPolicy"] = r.resolve(res["BillingBucketPolicy"]["Properties"]["PolicyDocument"])
        bucket = f"arn:{p}:s3:::{mode.bucket}"
        obj = f"{bucket}/{mode.prefix}cur/r/20261101-20261201/r-Manifest.json"
        cur = {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": f"arn:{p}:cur:us-east-1:{ACCOUNT}:definition/8a5b2c1d-e3f4"}
        exports = {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": f"arn:{p}:bcm-data-exports:us-east-1:{ACCOUNT}:export/cur2-0a1b"}
        br, de = "billingreports.amazonaws.com", "bcm-data-exports.amazonaws.com"
        docs["ingest-role"] = mode.role_policy("ReportIngestRole")
        role = f"arn:{p}:iam::{ACCOUNT}:role/{pol.STACK}-ReportIngestRole"
        cases["BillingBucketPolicy"] = [
            Case("billingreports puts a report", br, "s3:PutObject", obj, tls(cur)),
            Case("billingreports reads the bucket ACL", br, "s3:GetBucketAcl", bucket, tls(cur)),
            Case("billingreports reads the bucket policy", br, "s3:GetBucketPolicy", bucket, tls(cur)),
            Case("Data Exports puts an export", de, "s3:PutObject", obj, tls(exports)),
            Case("Data Exports reads the bucket policy", de, "s3:GetBucketPolicy", bucket, tls(exports)),
            Case("Data Exports reads the bucket ACL", de, "s3:GetBucketAcl", bucket, tls(exports)),
            Case("billingreports for another account", br, "s3:PutObject", obj,
                 tls({"aws:SourceAccount": OTHER, "aws:SourceArn": cur["aws:SourceArn"].replace(ACCOUNT, OTHER)}), "Denied"),
            Case("billingreports, this account, another account's report definition", br, "s3:PutObject", obj,
                 tls({**cur, "aws:SourceArn": cur["aws:SourceArn"].replace(ACCOUNT, OTHER)}), "Denied"),
            Case("billingreports for a definition outside us-east-1", br, "s3:PutObject", obj,
                 tls({**cur, "aws:SourceArn": cur["aws:SourceArn"].replace("us-east-1", "eu-west-1")}), "Denied"),
            Case("billingreports without aws:SourceArn", br, "s3:PutObject", obj, tls({"aws:SourceAccount": ACCOUNT}), "Denied"),
            Case("billingreports without aws:SourceAccount", br, "s3:PutObject", obj,
                 tls({"aws:SourceArn": cur["aws:SourceArn"]}), "Denied"),
            Case("billingreports over plain HTTP", br, "s3:PutObject", obj, tls(cur, secure=False), "ExplicitlyDenied"),
            Case("billingreports reads a report (not needed)", br, "s3:GetObject", obj, tls(cur), "Denied"),
            Case("billingreports deletes a report", br, "s3:DeleteObject", obj, tls(cur), "Denied"),
            Case("billingreports writes the bucket policy", br, "s3:PutBucketPolicy", bucket, tls(cur), "Denied"),
            Case("another service (CloudTrail) puts an object", "cloudtrail.amazonaws.com", "s3:PutObject", obj,
                 tls({"aws:SourceAccount": ACCOUNT, "aws:SourceArn": f"arn:{p}:cloudtrail:{REGION}:{ACCOUNT}:trail/t"}),
                 "Denied"),
            Case("an IAM user of another account puts an object", other_user(), "s3:PutObject", obj, tls(), "Denied"),
            Case("the ingest role reads a report over TLS", role, "s3:GetObject", obj, tls(), ALLOWED, ["ingest-role"]),
            Case("the ingest role over plain HTTP", role, "s3:GetObject", obj, tls(secure=False), "ExplicitlyDenied",
                 ["ingest-role"]),
        ]

    function_arn = r.get_att("ReportIngestFunction", "Arn")
    s3p, evp = "s3.amazonaws.com", "events.amazonaws.com"
    invoke = "lambda:InvokeFunction"
    if r.resource_enabled("ReportIngestInvokePermission"):
        docs["ReportIngestInvokePermission"] = document(
            [lambda_permission_statement(r, res["ReportIngestInvokePermission"]["Properties"])]
        )
        bucket_arn = f"arn:{p}:s3:::{mode.bucket}"
        ok = {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": bucket_arn}
        cases["ReportIngestInvokePermission"] = [
            Case("S3, the billing bucket", s3p, invoke, function_arn, ok),
            Case("S3, another bucket of this account", s3p, invoke, function_arn,
                 {**ok, "aws:SourceArn": f"arn:{p}:s3:::some-other-bucket"}, "Denied"),
            Case("S3, a bucket of the same name owned by another account", s3p, invoke, function_arn,
                 {**ok, "aws:SourceAccount": OTHER}, "Denied"),
            Case("S3 without aws:SourceArn", s3p, invoke, function_arn, {"aws:SourceAccount": ACCOUNT}, "Denied"),
            Case("EventBridge", evp, invoke, function_arn, ok, "Denied"),
            Case("an IAM user of another account", other_user(), invoke, function_arn, {}, "Denied"),
        ]
    if r.resource_enabled("ReportCreatedInvokePermission"):
        docs["ReportCreatedInvokePermission"] = document(
            [lambda_permission_statement(r, res["ReportCreatedInvokePermission"]["Properties"])]
        )
        rule = r.get_att("ReportCreatedRule", "Arn")
        ok = {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": rule}
        cases["ReportCreatedInvokePermission"] = [
            Case("EventBridge, the report rule", evp, invoke, function_arn, ok),
            Case("EventBridge, another rule", evp, invoke, function_arn,
                 {**ok, "aws:SourceArn": f"arn:{p}:events:{REGION}:{ACCOUNT}:rule/other"}, "Denied"),
            Case("EventBridge for another account", evp, invoke, function_arn,
                 {"aws:SourceAccount": OTHER, "aws:SourceArn": rule.replace(ACCOUNT, OTHER)}, "Denied"),
            Case("EventBridge without aws:SourceArn", evp, invoke, function_arn, {"aws:SourceAccount": ACCOUNT}, "Denied"),
            Case("S3", s3p, invoke, function_arn, {**ok, "aws:SourceArn": f"arn:{p}:s3:::{mode.bucket}"}, "Denied"),
            Case("an IAM user of another account", other_user(), invoke, function_arn, {}, "Denied"),
        ]
    if r.resource_enabled("IngestFailureQueuePolicy"):
        docs["IngestFailureQueuePolicy"] = r.resolve(res["IngestFailureQueuePolicy"]["Properties"]["PolicyDocument"])
        queue = r.get_att("IngestFailureQueue", "Arn")
        rule = r.get_att("ReportCreatedRule", "Arn")
        ok = {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": rule}
        cases["IngestFailureQueuePolicy"] = [
            Case("EventBridge dead-letters an event of the report rule", evp, "sqs:SendMessage", queue, ok),
            Case("EventBridge, another rule", evp, "sqs:SendMessage", queue,
                 {**ok, "aws:SourceArn": f"arn:{p}:events:{REGION}:{ACCOUNT}:rule/other"}, "Denied"),
            Case("EventBridge, another account's rule", evp, "sqs:SendMessage", queue,
                 {"aws:SourceAccount": OTHER, "aws:SourceArn": rule.replace(ACCOUNT, OTHER)}, "Denied"),
            Case("EventBridge without aws:SourceArn", evp, "sqs:SendMessage", queue, {"aws:SourceAccount": ACCOUNT}, "Denied"),
            Case("EventBridge reads the queue", evp, "sqs:ReceiveMessage", queue, ok, "Denied"),
            Case("SNS, another service", "sns.amazonaws.com", "sqs:SendMessage", queue,
                 {**ok, "aws:SourceArn": f"arn:{p}:sns:{REGION}:{ACCOUNT}:t"}, "Denied"),
            Case("an IAM user of another account", other_user(), "sqs:SendMessage", queue, {}, "Denied"),
        ]
    return docs, cases


def verdict(result: str, want: str) -> bool:
    if want == ALLOWED:
        return result == ALLOWED
    if want == "ExplicitlyDenied":
        return result == "ExplicitlyDenied"
    return result in ("ImplicitlyDenied", "ExplicitlyDenied")


def run(template: dict[str, Any], verbose: bool) -> tuple[list[str], int]:
    """Every case of every mode through the evaluator: the problems and the number of cases."""
    problems: list[str] = []
    requests: list[dict[str, Any]] = []
    index: dict[str, tuple[str, str, Case]] = {}
    all_docs: dict[str, Any] = {}
    for name in pol.MODES:
        mode = pol.Mode(name, template)
        docs, cases = cases_for(mode, template)
        for policy_name, doc in docs.items():
            all_docs[f"{name}|{policy_name}"] = doc
        for policy_name, group in cases.items():
            for c in group:
                rid = f"r{len(requests)}"
                index[rid] = (name, policy_name, c)
                requests.append({
                    "id": rid,
                    "principal": c.principal,
                    "action": c.action,
                    "resource": c.resource,
                    "account": ACCOUNT,
                    "context": c.context,
                    "identity": [f"{name}|{i}" for i in c.identity],
                    "resourcePolicy": f"{name}|{policy_name}",
                })
    answers = pol.evaluate(all_docs, requests)
    for rid, (mode, policy_name, c) in index.items():
        a = answers[rid]
        ok = verdict(a["result"], c.want)
        if verbose:
            print(f"  {'ok ' if ok else 'BAD'} {mode:40} {policy_name:30} {a['result']:17} {c.what}")
        if not ok:
            detail = f" ({a['error']})" if a.get("error") else ""
            problems.append(f"{mode}: {policy_name}: {c.what}: {a['result']}{detail}, expected {c.want}")
    return problems, len(requests)


def unconditioned(template: dict[str, Any], logical: str) -> dict[str, Any]:
    """The template with every Condition of `logical`'s policy statements removed (and a Lambda
    permission's SourceArn dropped): what a careless edit would leave."""
    t = copy.deepcopy(template)
    props = t["Resources"][logical]["Properties"]
    if t["Resources"][logical]["Type"] == "AWS::Lambda::Permission":
        props.pop("SourceArn", None)
        return t
    doc = props.get("KeyPolicy") or props.get("PolicyDocument")
    for s in doc["Statement"]:
        if s.get("Effect") == "Allow" and "Principal" in s and "Service" in (s.get("Principal") or {}):
            s.pop("Condition", None)
    return t


POLICIES = [
    "OpsTopicKey",
    "BillingBucketPolicy",
    "ReportIngestInvokePermission",
    "ReportCreatedInvokePermission",
    "IngestFailureQueuePolicy",
]


def check_topic_policies(template: dict[str, Any]) -> list[str]:
    """A topic policy replaces SNS's default one: one for OpsTopic must admit CloudWatch."""
    out = []
    for logical, r in template["Resources"].items():
        if r.get("Type") != "AWS::SNS::TopicPolicy":
            continue
        topics = (r.get("Properties") or {}).get("Topics") or []
        if {"Ref": "OpsTopic"} in topics and "cloudwatch.amazonaws.com" not in str(r.get("Properties")):
            out.append(f"{logical} replaces OpsTopic's default policy without a statement for cloudwatch.amazonaws.com")
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    ap.add_argument("--template", default=str(st.DEFAULT_TEMPLATE))
    ap.add_argument("-v", "--verbose", action="store_true", help="print every case and its answer")
    args = ap.parse_args(argv)
    template = st.load_template(args.template)
    problems, n = run(template, args.verbose)
    problems += check_topic_policies(template)
    # Each policy's conditions are what denies the confused deputy: without them, some denied
    # case must come out allowed.
    caught = 0
    for logical in POLICIES:
        found, _ = run(unconditioned(template, logical), False)
        if found:
            caught += 1
        else:
            problems.append(f"{logical} without its conditions passes every case: the cases do not test them")
    for line in problems:
        print(f"{PROG}: {line}", file=sys.stderr)
    if problems:
        print(f"{PROG}: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(
        f"{PROG}: OK: {n} requests against the bucket policy, the ops topic's key policy, the queue "
        f"policy and the function's invoke permissions in {len(pol.MODES)} deployment modes "
        f"(@cloud-copilot/iam-simulate); each of {caught} policies without its conditions is caught"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
