"""template.yaml as the local emulator sees it: shared by create_stack.py and parity_check.py.

Reads the SAM template with a YAML loader that understands CloudFormation's short tags
(!Sub, !Ref, !GetAtt, !If, ...), resolves the few intrinsics the local stack needs (pseudo
parameters, parameter defaults, conditions, Ref/GetAtt of the bucket, tables and topics) and
describes what the emulator must hold: the buckets, the DynamoDB tables (keys, attribute types,
indexes, billing mode, TTL) and the SNS topics the function's environment points at.

It also compares an emulator against that description (`diff_*`), so create_stack.py can
refuse to reuse a table that does not match and parity_check.py can report every mismatch.

Stdlib + PyYAML + boto3/botocore only (all in the project's .venv through moto).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
DEFAULT_TEMPLATE = REPO / "template.yaml"
DEFAULT_STACK = "billwatch"
DEFAULT_ACCOUNT = "123456789012"  # moto's default account
FUNCTION = "ReportIngestFunction"  # the function whose environment the local stack exports
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")

# The function's environment, in the order create_stack.py prints it.
ENV_TABLES = (
    "BILLWATCH_TOTALS_TABLE",
    "BILLWATCH_REPORTS_TABLE",
    "BILLWATCH_BUDGETS_TABLE",
    "BILLWATCH_ALERTS_TABLE",
)
ENV_TOPIC = "BILLWATCH_ALERT_TOPIC_ARN"
ENV_BUCKET = "BILLWATCH_BUCKET"
ENV_VARS = ENV_TABLES + (ENV_TOPIC, ENV_BUCKET)
# The parameter that names a billing bucket the stack does not create.
EXISTING_BUCKET_PARAM = "ExistingBucketName"


class TemplateError(Exception):
    """The template cannot be read or resolved."""


# --------------------------------------------------------------------------------------------
# YAML with CloudFormation short tags
# --------------------------------------------------------------------------------------------


class CfnLoader(yaml.SafeLoader):
    """SafeLoader + `!Tag value` -> {"Fn::Tag": value} (and !Ref, !Condition, !GetAtt a.b)."""


def _construct_tag(loader: CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        resource, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {f"Fn::{suffix}": value}


CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path | str = DEFAULT_TEMPLATE) -> dict[str, Any]:
    path = Path(path)
    try:
        with path.open(encoding="utf-8") as f:
            doc = yaml.load(f, Loader=CfnLoader)  # noqa: S506 - SafeLoader subclass
    except OSError as e:
        raise TemplateError(f"cannot read {path}: {e.strerror}") from e
    except yaml.YAMLError as e:
        raise TemplateError(f"{path} is not valid YAML: {e}") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("Resources"), dict):
        raise TemplateError(f"{path} has no Resources section")
    return doc


# --------------------------------------------------------------------------------------------
# Resolving intrinsics
# --------------------------------------------------------------------------------------------

NO_VALUE = object()  # AWS::NoValue: the property is dropped


def region_from_env() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


class Resolver:
    """Evaluates the intrinsics of one template for one stack name, account and region."""

    def __init__(
        self,
        template: dict[str, Any],
        stack_name: str = DEFAULT_STACK,
        account: str = DEFAULT_ACCOUNT,
        region: str | None = None,
        parameters: dict[str, str] | None = None,
    ) -> None:
        self.template = template
        self.resources: dict[str, Any] = template["Resources"]
        self.stack_name = stack_name
        self.account = account
        self.region = region or region_from_env()
        self.partition = "aws-cn" if self.region.startswith("cn-") else "aws"
        self.params: dict[str, Any] = {}
        for name, spec in (template.get("Parameters") or {}).items():
            if parameters and name in parameters:
                value: Any = parameters[name]
            elif isinstance(spec, dict) and "Default" in spec:
                value = spec["Default"]
            else:
                continue
            kind = str(spec.get("Type", "")) if isinstance(spec, dict) else ""
            if (kind == "CommaDelimitedList" or kind.startswith("List<")) and isinstance(value, str):
                value = value.split(",")  # as CloudFormation does: "" is [""]
            self.params[name] = value
        self._conditions: dict[str, bool] = {}

    # -- pseudo parameters, parameters, resources --------------------------------------------

    def ref(self, name: str) -> Any:
        pseudo = {
            "AWS::StackName": self.stack_name,
            "AWS::AccountId": self.account,
            "AWS::Region": self.region,
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com",
            "AWS::StackId": f"arn:{self.partition}:cloudformation:{self.region}:{self.account}:stack/{self.stack_name}/local",
            "AWS::NoValue": NO_VALUE,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.params:
            return self.params[name]
        if name in self.resources:
            return self.physical_id(name)
        raise TemplateError(f"!Ref {name}: no such parameter or resource")

    def physical_id(self, logical: str) -> str:
        """What !Ref of a resource gives, for the resource types the local stack has."""
        res = self.resources[logical]
        kind = res.get("Type")
        props = res.get("Properties") or {}
        if kind == "AWS::DynamoDB::Table":
            return self._name(logical, props, "TableName")
        if kind == "AWS::S3::Bucket":
            return self._name(logical, props, "BucketName")
        if kind == "AWS::SNS::Topic":
            name = self._name(logical, props, "TopicName")
            return f"arn:{self.partition}:sns:{self.region}:{self.account}:{name}"
        if kind == "AWS::SQS::Queue":
            return self._name(logical, props, "QueueName")
        raise TemplateError(f"!Ref {logical}: the local stack does not model {kind}")

    def _name(self, logical: str, props: dict[str, Any], key: str) -> str:
        if key not in props:
            raise TemplateError(
                f"{logical} has no {key}: give it an explicit name (e.g. !Sub \"${{AWS::StackName}}-...\") "
                "so the local stack and the deployed stack agree"
            )
        value = self.resolve(props[key])
        if not isinstance(value, str):
            raise TemplateError(f"{logical}.{key} does not resolve to a string: {value!r}")
        return value

    def get_att(self, logical: str, attribute: str) -> str:
        if logical not in self.resources:
            raise TemplateError(f"!GetAtt {logical}.{attribute}: no such resource")
        kind = self.resources[logical].get("Type")
        p, r, a = self.partition, self.region, self.account
        if kind == "AWS::DynamoDB::Table" and attribute == "Arn":
            return f"arn:{p}:dynamodb:{r}:{a}:table/{self.physical_id(logical)}"
        if kind == "AWS::S3::Bucket" and attribute == "Arn":
            return f"arn:{p}:s3:::{self.physical_id(logical)}"
        if kind == "AWS::SNS::Topic" and attribute == "TopicArn":
            return self.physical_id(logical)
        if kind == "AWS::SNS::Topic" and attribute == "TopicName":
            return self.physical_id(logical).rsplit(":", 1)[1]
        if kind == "AWS::SQS::Queue" and attribute == "Arn":
            return f"arn:{p}:sqs:{r}:{a}:{self.physical_id(logical)}"
        if kind == "AWS::SQS::Queue" and attribute == "QueueName":
            return self.physical_id(logical)
        # The rest serve the permissions check (infra/iam): ARNs as AWS would give them, with the
        # physical name the template sets, or a stand-in where CloudFormation generates one.
        props = self.resources[logical].get("Properties") or {}
        if kind == "AWS::Logs::LogGroup" and attribute == "Arn":
            return f"arn:{p}:logs:{r}:{a}:log-group:{self._name(logical, props, 'LogGroupName')}:*"
        if kind == "AWS::Events::Rule" and attribute == "Arn":
            return f"arn:{p}:events:{r}:{a}:rule/{self._name(logical, props, 'Name')}"
        if kind == "AWS::KMS::Key" and attribute == "Arn":
            return f"arn:{p}:kms:{r}:{a}:key/{self.stack_name}-{logical}"
        if kind in FUNCTION_TYPES and attribute == "Arn":
            name = self.resolve(props["FunctionName"]) if "FunctionName" in props else f"{self.stack_name}-{logical}"
            return f"arn:{p}:lambda:{r}:{a}:function:{name}"
        if kind == "AWS::IAM::Role" and attribute == "Arn":
            return f"arn:{p}:iam::{a}:role/{self.stack_name}-{logical}"
        raise TemplateError(f"!GetAtt {logical}.{attribute}: not modelled for {kind} by the local stack")

    # -- conditions -----------------------------------------------------------------------

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            conditions = self.template.get("Conditions") or {}
            if name not in conditions:
                raise TemplateError(f"condition {name} is not defined")
            self._conditions[name] = bool(self.resolve(conditions[name]))
        return self._conditions[name]

    def resource_enabled(self, logical: str) -> bool:
        cond = self.resources[logical].get("Condition")
        return True if cond is None else self.condition(cond)

    # -- the evaluator ----------------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            out = [self.resolve(v) for v in value]
            return [v for v in out if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Condition":
                return self.condition(arg)
            if key.startswith("Fn::"):
                return self._fn(key[4:], arg)
        out = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not NO_VALUE}

    def _fn(self, fn: str, arg: Any) -> Any:
        if fn == "Sub":
            if isinstance(arg, list):
                text, variables = arg[0], {k: self.resolve(v) for k, v in (arg[1] or {}).items()}
            else:
                text, variables = arg, {}
            return self._sub(text, variables)
        if fn == "GetAtt":
            logical, attribute = (arg.split(".", 1) if isinstance(arg, str) else arg)
            return self.get_att(logical, attribute)
        if fn == "If":
            cond, yes, no = arg
            return self.resolve(yes if self.condition(cond) else no)
        if fn == "Equals":
            a, b = (self.resolve(x) for x in arg)
            return str(a) == str(b)
        if fn == "Not":
            return not self.resolve(arg[0])
        if fn == "And":
            return all(self.resolve(x) for x in arg)
        if fn == "Or":
            return any(self.resolve(x) for x in arg)
        if fn == "Join":
            sep, items = arg
            items = self.resolve(items)
            if isinstance(items, str):
                items = [items]
            return str(sep).join(str(x) for x in items)
        if fn == "Select":
            index, items = arg
            return self.resolve(items)[int(self.resolve(index))]
        if fn == "Split":
            sep, text = arg
            return str(self.resolve(text)).split(sep)
        if fn == "FindInMap":
            mapping, top, second = (self.resolve(x) for x in arg)
            return self.resolve(self.template["Mappings"][mapping][top][second])
        raise TemplateError(f"Fn::{fn} is not supported by the local stack's resolver")

    _SUB = re.compile(r"\$\{(!?)([^}]*)\}")

    def _sub(self, text: str, variables: dict[str, Any]) -> str:
        def one(m: re.Match[str]) -> str:
            if m.group(1) == "!":  # ${!Literal}
                return "${" + m.group(2) + "}"
            name = m.group(2).strip()
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical, attribute = name.split(".", 1)
                return str(self.get_att(logical, attribute))
            value = self.ref(name)
            if value is NO_VALUE:
                raise TemplateError(f"${{{name}}} in !Sub resolves to AWS::NoValue")
            return str(value)

        return self._SUB.sub(one, text)


# --------------------------------------------------------------------------------------------
# What the local stack holds
# --------------------------------------------------------------------------------------------


@dataclass
class IndexSpec:
    name: str
    keys: list[tuple[str, str]]  # [(attribute, HASH|RANGE)] in schema order
    projection: str
    non_key: list[str] = field(default_factory=list)


@dataclass
class TableSpec:
    logical: str
    name: str
    keys: list[tuple[str, str]]
    attributes: dict[str, str]  # name -> S|N|B
    billing_mode: str
    gsis: dict[str, IndexSpec]
    lsis: dict[str, IndexSpec]
    ttl: str | None  # TTL attribute, if enabled


@dataclass
class TopicSpec:
    logical: str
    name: str
    arn: str
    attributes: dict[str, str]  # create_topic attributes (DisplayName, KmsMasterKeyId, ...)


@dataclass
class BucketSpec:
    logical: str
    name: str
    versioning: str | None  # "Enabled" / "Suspended" / None
    sse_algorithm: str | None
    # Not the stack's own: the ExistingBucketName parameter names it (reports already land in
    # it). The local stack creates it to stand for that bucket; its settings are not the
    # template's to check.
    external: bool = False


@dataclass
class StackSpec:
    stack_name: str
    account: str
    region: str
    tables: list[TableSpec]
    topics: list[TopicSpec]
    buckets: list[BucketSpec]
    env: dict[str, str]  # ReportIngestFunction's environment, resolved
    # Every function's BILLWATCH_* environment, resolved (logical id -> variables).
    functions: dict[str, dict[str, str]] = field(default_factory=dict)

    def table_by_logical(self, logical: str) -> TableSpec:
        return next(t for t in self.tables if t.logical == logical)


def _keys(schema: Any, where: str) -> list[tuple[str, str]]:
    if not isinstance(schema, list) or not schema:
        raise TemplateError(f"{where}: KeySchema must be a non-empty list")
    return [(k["AttributeName"], k["KeyType"]) for k in schema]


def _index(spec: dict[str, Any], where: str) -> IndexSpec:
    projection = spec.get("Projection") or {}
    return IndexSpec(
        name=spec["IndexName"],
        keys=_keys(spec.get("KeySchema"), f"{where} index {spec.get('IndexName')}"),
        projection=projection.get("ProjectionType", "ALL"),
        non_key=sorted(projection.get("NonKeyAttributes") or []),
    )


def _table(res: Resolver, logical: str) -> TableSpec:
    wanted = (
        "KeySchema",
        "AttributeDefinitions",
        "BillingMode",
        "GlobalSecondaryIndexes",
        "LocalSecondaryIndexes",
        "TimeToLiveSpecification",
    )
    raw = res.resources[logical].get("Properties") or {}
    props = {k: res.resolve(raw[k]) for k in wanted if k in raw}
    name = res.physical_id(logical)
    where = f"{logical} ({name})"
    ttl_spec = props.get("TimeToLiveSpecification") or {}
    return TableSpec(
        logical=logical,
        name=name,
        keys=_keys(props.get("KeySchema"), where),
        attributes={a["AttributeName"]: a["AttributeType"] for a in props.get("AttributeDefinitions") or []},
        billing_mode=props.get("BillingMode", "PROVISIONED"),
        gsis={i["IndexName"]: _index(i, where) for i in props.get("GlobalSecondaryIndexes") or []},
        lsis={i["IndexName"]: _index(i, where) for i in props.get("LocalSecondaryIndexes") or []},
        ttl=ttl_spec.get("AttributeName") if str(ttl_spec.get("Enabled")).lower() == "true" else None,
    )


def stack_spec(
    template: dict[str, Any],
    stack_name: str = DEFAULT_STACK,
    account: str = DEFAULT_ACCOUNT,
    region: str | None = None,
    parameters: dict[str, str] | None = None,
) -> StackSpec:
    """Everything the local stack holds, read from the template: every bucket, every table,
    and the SNS topics that the functions' environments name."""
    res = Resolver(template, stack_name, account, region, parameters)
    resources = res.resources
    if FUNCTION not in resources:
        raise TemplateError(f"the template has no {FUNCTION}")
    raw_envs: dict[str, dict[str, Any]] = {}
    for logical, r in resources.items():
        if r.get("Type") in FUNCTION_TYPES and res.resource_enabled(logical):
            props = r.get("Properties") or {}
            raw_envs[logical] = ((props.get("Environment") or {}).get("Variables")) or {}
    raw_env = raw_envs[FUNCTION]
    missing = [v for v in ENV_VARS if v not in raw_env]
    if missing:
        raise TemplateError(f"{FUNCTION}'s Environment lacks {', '.join(missing)}")
    functions = {
        logical: {k: str(res.resolve(v)) for k, v in variables.items() if k.startswith("BILLWATCH_")}
        for logical, variables in raw_envs.items()
    }
    env = {k: str(res.resolve(v)) for k, v in raw_env.items()}

    tables = [
        _table(res, logical)
        for logical, r in resources.items()
        if r.get("Type") == "AWS::DynamoDB::Table" and res.resource_enabled(logical)
    ]

    topics = []
    seen_topics: set[str] = set()
    for var, value in (item for variables in raw_envs.values() for item in variables.items()):
        if isinstance(value, dict) and "Ref" in value and resources.get(value["Ref"], {}).get("Type") == "AWS::SNS::Topic":
            logical = value["Ref"]
            if logical in seen_topics:
                continue
            seen_topics.add(logical)
            raw = resources[logical].get("Properties") or {}
            arn = res.physical_id(logical)
            attributes = {}
            for k in ("DisplayName", "KmsMasterKeyId", "FifoTopic", "ContentBasedDeduplication"):
                if k in raw:
                    v = res.resolve(raw[k])
                    attributes[k] = str(v).lower() if isinstance(v, bool) else str(v)
            topics.append(TopicSpec(logical, arn.rsplit(":", 1)[1], arn, attributes))

    buckets = []
    for logical, r in resources.items():
        if r.get("Type") != "AWS::S3::Bucket" or not res.resource_enabled(logical):
            continue
        # Only the properties the local stack uses: the rest (the notification's function
        # ARN, ...) may refer to resources it does not model.
        raw = r.get("Properties") or {}
        props = {k: res.resolve(raw[k]) for k in ("VersioningConfiguration", "BucketEncryption") if k in raw}
        rules = ((props.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration")) or []
        sse = rules[0].get("ServerSideEncryptionByDefault", {}).get("SSEAlgorithm") if rules else None
        buckets.append(
            BucketSpec(
                logical=logical,
                name=res.physical_id(logical),
                versioning=(props.get("VersioningConfiguration") or {}).get("Status"),
                sse_algorithm=sse,
            )
        )

    existing = str(res.params.get(EXISTING_BUCKET_PARAM) or "")
    if existing and env.get(ENV_BUCKET) == existing and existing not in {b.name for b in buckets}:
        buckets.append(BucketSpec(EXISTING_BUCKET_PARAM, existing, None, None, external=True))

    spec = StackSpec(stack_name, account, res.region, tables, topics, buckets, env, functions)
    # Every function's environment must point at resources the local stack creates, and two
    # functions must never disagree on a name (the CLI and the local stack use one set).
    table_names = {t.name for t in tables}
    topic_arns = {t.arn for t in topics}
    bucket_names = {b.name for b in buckets}
    for logical, variables in functions.items():
        for var, value in variables.items():
            where = f"{logical}: {var}={value}"
            if var.endswith("_TABLE") and value not in table_names:
                raise TemplateError(f"{where} is not one of the template's tables {sorted(table_names)}")
            if var == ENV_TOPIC and value not in topic_arns:
                raise TemplateError(f"{where}: {ENV_TOPIC} must be !Ref of an AWS::SNS::Topic in the template")
            if var == ENV_BUCKET and value not in bucket_names:
                raise TemplateError(f"{where} is not the name of a bucket in the template")
            if var in env and env[var] != value:
                raise TemplateError(f"{where}, but {FUNCTION} has {var}={env[var]}")
    return spec


STACK_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,62}$")


def check_stack_name(name: str) -> str:
    # Lowercase: the bucket name is derived from it and S3 bucket names are lowercase.
    if not STACK_NAME_RE.match(name) or name.endswith("-"):
        raise TemplateError(
            f"stack name {name!r}: use lowercase letters, digits and '-', starting with a letter "
            "(it becomes part of the S3 bucket name)"
        )
    return name


# --------------------------------------------------------------------------------------------
# Comparing an emulator with the spec
# --------------------------------------------------------------------------------------------


def _fmt_keys(keys: list[tuple[str, str]]) -> str:
    return "[" + ", ".join(f"{a} {t}" for a, t in keys) + "]"


def _index_from_api(ix: dict[str, Any]) -> IndexSpec:
    projection = ix.get("Projection") or {}
    return IndexSpec(
        name=ix["IndexName"],
        keys=[(k["AttributeName"], k["KeyType"]) for k in ix.get("KeySchema") or []],
        projection=projection.get("ProjectionType", "?"),
        non_key=sorted(projection.get("NonKeyAttributes") or []),
    )


def _diff_indexes(kind: str, want: dict[str, IndexSpec], got: dict[str, IndexSpec], where: str) -> list[str]:
    out = []
    for name in sorted(want.keys() - got.keys()):
        out.append(f"{where}: {kind} {name} missing (template: keys {_fmt_keys(want[name].keys)})")
    for name in sorted(got.keys() - want.keys()):
        out.append(f"{where}: {kind} {name} exists but is not in the template")
    for name in sorted(want.keys() & got.keys()):
        w, g = want[name], got[name]
        if w.keys != g.keys:
            out.append(f"{where}: {kind} {name} key schema: template {_fmt_keys(w.keys)}, emulator {_fmt_keys(g.keys)}")
        if w.projection != g.projection:
            out.append(f"{where}: {kind} {name} projection: template {w.projection}, emulator {g.projection}")
        if w.non_key != g.non_key:
            out.append(f"{where}: {kind} {name} non-key attributes: template {w.non_key}, emulator {g.non_key}")
    return out


def diff_table(spec: TableSpec, described: dict[str, Any], ttl: dict[str, Any] | None) -> list[str]:
    """Differences between a table spec and DescribeTable's `Table` (+ DescribeTimeToLive's
    `TimeToLiveDescription`). Empty when they agree."""
    where = f"table {spec.name} ({spec.logical})"
    out = []
    got_keys = [(k["AttributeName"], k["KeyType"]) for k in described.get("KeySchema") or []]
    if got_keys != spec.keys:
        out.append(f"{where}: key schema: template {_fmt_keys(spec.keys)}, emulator {_fmt_keys(got_keys)}")
    got_attrs = {a["AttributeName"]: a["AttributeType"] for a in described.get("AttributeDefinitions") or []}
    for name in sorted(spec.attributes.keys() | got_attrs.keys()):
        w, g = spec.attributes.get(name), got_attrs.get(name)
        if w != g:
            out.append(f"{where}: attribute {name}: template {w or 'undefined'}, emulator {g or 'undefined'}")
    got_mode = (described.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
    if got_mode != spec.billing_mode:
        out.append(f"{where}: billing mode: template {spec.billing_mode}, emulator {got_mode}")
    got_gsis = {i["IndexName"]: _index_from_api(i) for i in described.get("GlobalSecondaryIndexes") or []}
    got_lsis = {i["IndexName"]: _index_from_api(i) for i in described.get("LocalSecondaryIndexes") or []}
    out += _diff_indexes("GSI", spec.gsis, got_gsis, where)
    out += _diff_indexes("LSI", spec.lsis, got_lsis, where)
    if ttl is not None:
        status = ttl.get("TimeToLiveStatus", "DISABLED")
        got_ttl = ttl.get("AttributeName") if status in ("ENABLED", "ENABLING") else None
        if got_ttl != spec.ttl:
            out.append(
                f"{where}: TTL attribute: template {spec.ttl or 'none (TTL off)'}, "
                f"emulator {got_ttl or 'none'} (status {status})"
            )
    return out


def diff_topic(spec: TopicSpec, attributes: dict[str, str]) -> list[str]:
    """Differences between a topic spec and GetTopicAttributes' `Attributes`."""
    where = f"topic {spec.name} ({spec.logical})"
    out = []
    if attributes.get("TopicArn", spec.arn) != spec.arn:
        out.append(f"{where}: ARN: template {spec.arn}, emulator {attributes.get('TopicArn')}")
    for key, want in spec.attributes.items():
        got = attributes.get(key)
        if key in ("FifoTopic", "ContentBasedDeduplication"):
            got = (got or "false").lower()
        if got != want:
            out.append(f"{where}: {key}: template {want!r}, emulator {got!r}")
    return out
