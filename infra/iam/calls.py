"""What AWS authorizes for each recorded call (infra/local/call_log.py).

One HTTP request can need several authorizations: a TransactWriteItems is authorized item by
item (dynamodb:PutItem, UpdateItem, DeleteItem or ConditionCheckItem, each on its own table), a
BatchWriteItem or BatchGetItem once per table it names. Resources are kept abstract here (the
template's logical table, "the billing bucket", "the alert topic"), because the tests run on
copies named after the template's resources; policies.py renders them for each deployment mode.

A request this module cannot map is an error, never skipped: an unmapped call is a call nobody
checked.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any


class Unmapped(Exception):
    """A recorded request this module does not know how to authorize."""


@dataclass(frozen=True)
class Resource:
    """An abstract resource: kind plus its name as the template knows it.

    kind: table (name = logical id, extra = index or ""), object (name = key), bucket,
    topic (name = alert | chat | extra), queue (name = logical id), arn (name = literal ARN),
    any ("*", for actions that take no resource).
    """

    kind: str
    name: str = ""
    extra: str = ""


@dataclass(frozen=True)
class Authorization:
    action: str
    resource: Resource
    context: tuple[tuple[str, str], ...] = ()  # (key, value) pairs; s3:prefix is a key prefix
    operation: str = ""  # the API operation that needed it, for messages


@dataclass
class Names:
    """How the tests' resource names map to the template's resources."""

    tables: dict[str, str] = field(default_factory=dict)  # template physical name -> logical id
    stack: str = ""  # the stack name the physical names were resolved with

    def table(self, name: str) -> str:
        for base in sorted(self.tables, key=len, reverse=True):
            if name == base or name.startswith(base + "-"):
                return self.tables[base]
        # Another stack's table of the same kind (the CLI's --stack NAME gives NAME-reports).
        for base in sorted(self.tables, key=len, reverse=True):
            if self.stack and base.startswith(self.stack) and name.endswith(base[len(self.stack):]):
                return self.tables[base]
        raise Unmapped(
            f"table {name!r} is not named after a table of template.yaml ({', '.join(sorted(self.tables))}); "
            "name test tables <template name>-<suffix> so their calls can be checked"
        )

    @staticmethod
    def topic(arn: str) -> Resource:
        """The stack's alert topic (alerts-…, …-alerts), its chat topic (chat-…, …-chat), its
        operations topic (…-ops), or else a topic a budget names (topic_arn), which the template
        calls ExtraAlertTopicArns."""
        name = arn.rsplit(":", 1)[-1]
        if "extra" in name:
            return Resource("topic", "extra")
        if name.startswith("chat") or name.endswith("-chat"):
            return Resource("topic", "chat")
        if name.startswith("alerts") or name.endswith("-alerts"):
            return Resource("topic", "alert")
        if name.endswith("-ops"):
            return Resource("topic", "ops")
        return Resource("topic", "extra")


def _form(body: str | None) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(body or "", keep_blank_values=True))


def _json(body: str | None) -> dict[str, Any]:
    try:
        value = json.loads(body or "{}")
    except json.JSONDecodeError as e:
        raise Unmapped(f"body is not JSON: {e}") from e
    return value if isinstance(value, dict) else {}


def _operation(entry: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(operation, parameters) of a JSON-protocol (X-Amz-Target) or query-protocol request."""
    target = entry.get("target") or ""
    if target:
        return target.rsplit(".", 1)[-1], _json(entry.get("body"))
    params = _form(entry.get("body"))
    params.update(_form(entry.get("query")))
    if "Action" not in params:
        raise Unmapped("no X-Amz-Target and no Action parameter")
    return params["Action"], params


# --------------------------------------------------------------------------------------------
# DynamoDB
# --------------------------------------------------------------------------------------------

_DYNAMO_TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}


def _dynamodb(op: str, p: dict[str, Any], names: Names) -> list[Authorization]:
    def table(name: str, index: str = "") -> Resource:
        return Resource("table", names.table(name), index)

    if op in ("BatchWriteItem", "BatchGetItem"):
        return [Authorization(f"dynamodb:{op}", table(t), (), op) for t in sorted(p.get("RequestItems") or {})]
    if op == "TransactWriteItems":
        out = []
        for item in p.get("TransactItems") or []:
            for kind, spec in item.items():
                if kind not in _DYNAMO_TRANSACT:
                    raise Unmapped(f"TransactWriteItems item kind {kind!r}")
                out.append(Authorization(f"dynamodb:{_DYNAMO_TRANSACT[kind]}", table(spec["TableName"]), (), op))
        return out
    if op == "TransactGetItems":
        return [Authorization("dynamodb:GetItem", table(i["Get"]["TableName"]), (), op) for i in p.get("TransactItems") or []]
    if op in ("ListTables", "DescribeLimits", "DescribeEndpoints"):
        return [Authorization(f"dynamodb:{op}", Resource("any", "*"), (), op)]
    if "TableName" not in p:
        raise Unmapped(f"DynamoDB {op} without TableName")
    index = p.get("IndexName", "") if op in ("Query", "Scan") else ""
    return [Authorization(f"dynamodb:{op}", table(p["TableName"], index), (), op)]


# --------------------------------------------------------------------------------------------
# S3 (REST, path-style against the emulator: /bucket/key?query)
# --------------------------------------------------------------------------------------------

# Bucket sub-resources (?name) read with GET, and the action each needs.
_S3_BUCKET_GET = {
    "notification": "s3:GetBucketNotification",
    "versioning": "s3:GetBucketVersioning",
    "policy": "s3:GetBucketPolicy",
    "encryption": "s3:GetEncryptionConfiguration",
    "location": "s3:GetBucketLocation",
    "publicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "lifecycle": "s3:GetLifecycleConfiguration",
    "ownershipControls": "s3:GetBucketOwnershipControls",
    "tagging": "s3:GetBucketTagging",
    "acl": "s3:GetBucketAcl",
    "uploads": "s3:ListBucketMultipartUploads",
}


def _s3(entry: dict[str, Any]) -> list[Authorization]:
    method = entry["method"]
    bucket, _, key = entry["path"].lstrip("/").partition("/")
    query = dict(urllib.parse.parse_qsl(entry.get("query") or "", keep_blank_values=True))
    if not bucket:
        if method == "GET":
            return [Authorization("s3:ListAllMyBuckets", Resource("any", "*"), (), "ListBuckets")]
        raise Unmapped(f"S3 {method} /")
    if not key:
        if method == "HEAD":
            return [Authorization("s3:ListBucket", Resource("bucket"), (), "HeadBucket")]
        if method == "GET":
            if "versions" in query:
                prefix = query.get("prefix", "")
                return [Authorization("s3:ListBucketVersions", Resource("bucket"), (("s3:prefix", prefix),), "ListObjectVersions")]
            for sub, action in _S3_BUCKET_GET.items():
                if sub in query:
                    return [Authorization(action, Resource("bucket"), (), f"GetBucket:{sub}")]
            prefix = query.get("prefix", "")
            return [Authorization("s3:ListBucket", Resource("bucket"), (("s3:prefix", prefix),), "ListObjects")]
        if method == "POST" and "delete" in query:
            return [Authorization("s3:DeleteObject", Resource("bucket"), (), "DeleteObjects")]
        raise Unmapped(f"S3 {method} on bucket with {sorted(query)}")
    # The stack's pages bucket (<stack>-pages-<account>; the tests' are named pages-…): the
    # month pages, under pages/.
    obj = Resource("pages", key) if bucket.startswith("pages") or "-pages-" in bucket else Resource("object", key)
    versioned = "versionId" in query
    if method in ("GET", "HEAD"):
        if "tagging" in query:
            return [Authorization("s3:GetObjectVersionTagging" if versioned else "s3:GetObjectTagging", obj, (), "GetObjectTagging")]
        if "attributes" in query:
            return [Authorization("s3:GetObjectVersionAttributes" if versioned else "s3:GetObjectAttributes", obj, (), "GetObjectAttributes")]
        op = "GetObject" if method == "GET" else "HeadObject"
        return [Authorization("s3:GetObjectVersion" if versioned else "s3:GetObject", obj, (), op)]
    if method == "PUT" and not query.keys() - {"x-id"}:
        return [Authorization("s3:PutObject", obj, (), "PutObject")]
    if method == "POST" and ("uploads" in query or "uploadId" in query):
        return [Authorization("s3:PutObject", obj, (), "MultipartUpload")]
    if method == "PUT" and "uploadId" in query:
        return [Authorization("s3:PutObject", obj, (), "UploadPart")]
    if method == "DELETE":
        if "uploadId" in query:
            return [Authorization("s3:AbortMultipartUpload", obj, (), "AbortMultipartUpload")]
        return [Authorization("s3:DeleteObjectVersion" if versioned else "s3:DeleteObject", obj, (), "DeleteObject")]
    raise Unmapped(f"S3 {method} on an object with {sorted(query)}")


# --------------------------------------------------------------------------------------------
# The rest
# --------------------------------------------------------------------------------------------


# A function or rule name CloudFormation derives from the stack's name: <stack>-<logical id>-<suffix>
# for functions and their schedule rules, <stack>-report-created for the existing bucket's rule.
_STACK_NAMED = re.compile(r"^.+?-((?:ReportIngestFunction|HealthCheckFunction)[A-Za-z]*-[^-]+|report-created)$")


def _stack_named(name: str) -> str:
    """A stack-derived name with the stack's name as a placeholder (another stack's doctor run
    calls the same things as this one's)."""
    m = _STACK_NAMED.match(name)
    return "${StackName}-" + m.group(1) if m else name


def _arn(service: str, resource: str) -> Resource:
    return Resource("arn", f"arn:aws:{service}:${{Region}}:${{Account}}:{resource}")


def _lambda(entry: dict[str, Any]) -> list[Authorization]:
    parts = [urllib.parse.unquote(p) for p in entry["path"].strip("/").split("/")]
    if parts[1:] == ["functions"] and entry["method"] == "GET":
        return [Authorization("lambda:ListFunctions", Resource("any", "*"), (), "ListFunctions")]
    # /2015-03-31/functions/NAME[/configuration|/policy], /2019-09-25/functions/NAME/event-invoke-config
    if len(parts) >= 3 and parts[1] == "functions" and entry["method"] == "GET":
        name = parts[2].rsplit(":", 1)[-1] if parts[2].startswith("arn:") else parts[2]
        tail = parts[3] if len(parts) > 3 else ""
        action = {
            "": "lambda:GetFunction",
            "configuration": "lambda:GetFunctionConfiguration",
            "policy": "lambda:GetPolicy",
            "event-invoke-config": "lambda:GetFunctionEventInvokeConfig",
        }.get(tail)
        if action:
            return [Authorization(action, Resource("function", _stack_named(name)), (), action.split(":")[1])]
    raise Unmapped(f"Lambda {entry['method']} {entry['path']}")


def authorizations(entry: dict[str, Any], names: Names) -> list[Authorization]:
    """Every authorization AWS makes for one recorded request."""
    service = entry["service"]
    if service == "s3":
        return _s3(entry)
    if service == "lambda":
        return _lambda(entry)
    op, p = _operation(entry)
    if service == "dynamodb":
        return _dynamodb(op, p, names)
    if service == "sns":
        if op in ("Publish", "PublishBatch"):
            arn = p.get("TopicArn") or p.get("TargetArn") or ""
            return [Authorization("sns:Publish", Names.topic(arn), (), op)]
        if op in ("ListSubscriptionsByTopic", "GetTopicAttributes"):
            return [Authorization(f"sns:{op}", Names.topic(p["TopicArn"]), (), op)]
        if op == "ListTopics":
            return [Authorization("sns:ListTopics", Resource("any", "*"), (), op)]
    if service == "ssm" and op == "GetParameter":
        name = p["Name"]
        name = name.split(":parameter", 1)[1] if name.startswith("arn:") else name
        return [Authorization("ssm:GetParameter", _arn("ssm", "parameter" + ("" if name.startswith("/") else "/") + name), (), op)]
    if service == "secretsmanager" and op == "GetSecretValue":
        secret = p["SecretId"]
        # A secret's ARN ends in its name and six random characters.
        name = secret.split(":secret:", 1)[1] if secret.startswith("arn:") else secret + "-AbCdEf"
        return [Authorization("secretsmanager:GetSecretValue", _arn("secretsmanager", "secret:" + name), (), op)]
    if service == "sqs" and op in ("SendMessage", "SendMessageBatch"):
        return [Authorization("sqs:SendMessage", Resource("queue", p["QueueUrl"].rsplit("/", 1)[-1]), (), op)]
    if service == "sts" and op == "GetCallerIdentity":
        return []  # no permission is needed to ask who one is
    if service == "events" and op in ("DescribeRule", "ListTargetsByRule"):
        rule = _stack_named(p.get("Name") or p.get("Rule") or "")
        return [Authorization(f"events:{op}", _arn("events", f"rule/{rule}"), (), op)]
    if service == "events" and op == "ListRuleNamesByTarget":
        return [Authorization(f"events:{op}", Resource("any", "*"), (), op)]  # no resource-level control
    if service == "cloudformation" and op in ("DescribeStacks", "DescribeStackResources", "ListStackResources", "DescribeStackResource"):
        return [Authorization(f"cloudformation:{op}", _arn("cloudformation", f"stack/{p.get('StackName', '')}/*"), (), op)]
    raise Unmapped(f"{service} {op}")
