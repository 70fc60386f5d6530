#!/usr/bin/env python3
"""Project rules for template.yaml that cfn-lint and checkov do not check.

    infra/template_check.py [--template template.yaml] [--list]

  * least privilege: no IAM role statement allows Action "*" or "<service>:*", and none has a
    Resource "*" (or a list holding "*"). Key policies (AWS::KMS::Key) are not roles: their "*"
    means "this key".
  * every checkov skip (Metadata.checkov.skip) has an id and a written reason (comment).
  * no S3 -> Lambda cycle: nothing a bucket's notification depends on (the function, its role,
    the invoke permission) refers to that bucket with Ref / GetAtt / ${Bucket} - the cycle that
    CloudFormation rejects at change-set time and cfn-lint 1.58 no longer reports.
  * the names the CLI derives from `--stack NAME` (cli/src/aws.rs): every table and topic a
    function's BILLWATCH_* variable names is called "${AWS::StackName}-<suffix>" (totals,
    reports, budgets, alerts; topics alerts and chat).
  * both deployment modes (MODES: a new bucket, with and without ReportPrefix; an existing
    bucket with a prefix), each resolved with its parameters: exactly one trigger is deployed
    (the bucket's notifications, or the EventBridge rule with its permission, dead-letter queue
    and queue policy), it filters on the bucket and the prefix, the function's role reads only
    <bucket>/<prefix>* (ListBucket limited to the prefix), and its environment names the same
    bucket and prefix.

    infra/template_check.py --write-mode MODE OUT   writes the template with MODE's parameters
    as defaults, for cfn-lint, checkov and sam validate (.ci/run lints every mode).
  * every AWS::CloudWatch::Dashboard body is JSON (its ${...} filled in), its metric widgets
    name a region, and its billwatch metrics use the namespace the function emits to
    (BILLWATCH_METRICS_NAMESPACE); it is valid by infra/schemas/cloudwatch-dashboard-body
    .schema.json (written from AWS's "Dashboard Body Structure and Syntax": widget types,
    x 0-23, width 1-24, height 1-1000, metric widget properties, periods of 1/5/10/30 s or
    multiples of 60, statistics, views), each metrics entry is Namespace, MetricName and
    dimension pairs or an expression, ids are unique, widgets fit the grid without overlapping;
    ten broken bodies are rejected (the check is not vacuous).
  * the triggers' filters (infra/trigger_filters.py): ReportCreatedRule's pattern and the
    bucket's notification filters against every report key layout, with and without a prefix.

--list prints every IAM role statement (role, Sid, actions, resources) and every checkov skip.
Exit status: 0 clean, 1 with one "template_check.py: ..." line per problem, 2 unreadable template.
Needs PyYAML, jsonschema and moto (the project's .venv has them).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any, Iterator

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent / "local"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import stack_template as st  # noqa: E402

PROG = "template_check.py"
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
# The names `billwatch --stack NAME` uses when the variable is not set: NAME-<suffix>.
CLI_NAMES = {
    "BILLWATCH_TOTALS_TABLE": "totals",
    "BILLWATCH_REPORTS_TABLE": "reports",
    "BILLWATCH_BUDGETS_TABLE": "budgets",
    "BILLWATCH_ALERTS_TABLE": "alerts",
    "BILLWATCH_ALERT_TOPIC_ARN": "alerts",
    "BILLWATCH_CHAT_TOPIC_ARN": "chat",
}


def statements(policy_doc: Any) -> Iterator[dict[str, Any]]:
    """The statements of a policy document, through Fn::If branches (AWS::NoValue dropped)."""
    body = (policy_doc or {}).get("Statement") or []
    if isinstance(body, dict):
        body = [body]
    for s in body:
        if isinstance(s, dict) and "Fn::If" in s:
            _, yes, no = s["Fn::If"]
            for branch in (yes, no):
                if isinstance(branch, dict) and branch != {"Ref": "AWS::NoValue"}:
                    yield branch
        elif isinstance(s, dict):
            yield s


def as_list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def show(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, dict) and len(v) == 1:
        (k, a), = v.items()
        if k == "Ref":
            return f"!Ref {a}"
        if k == "Fn::GetAtt":
            return f"!GetAtt {'.'.join(a) if isinstance(a, list) else a}"
        if k == "Fn::Sub":
            return f"!Sub {a if isinstance(a, str) else a[0]}"
    return repr(v)


def logical_of(value: Any) -> str | None:
    """The resource a Ref / GetAtt names, else None."""
    if not isinstance(value, dict):
        return None
    if "Ref" in value:
        return value["Ref"]
    att = value.get("Fn::GetAtt")
    if isinstance(att, list) and att:
        return att[0]
    if isinstance(att, str):
        return att.split(".")[0]
    return None


def refers_to(value: Any, logical: str) -> bool:
    """Whether a template value refers to resource `logical` (Ref, GetAtt, ${logical} in Sub)."""
    if isinstance(value, list):
        return any(refers_to(v, logical) for v in value)
    if not isinstance(value, dict):
        return False
    for k, a in value.items():
        if k == "Ref" and a == logical:
            return True
        if k == "Fn::GetAtt" and (a[0] if isinstance(a, list) else str(a).split(".")[0]) == logical:
            return True
        if k == "Fn::Sub":
            text = a if isinstance(a, str) else a[0]
            if f"${{{logical}}}" in text or f"${{{logical}." in text:
                return True
            if not isinstance(a, str) and refers_to(a[1:], logical):
                return True
        elif refers_to(a, logical):
            return True
    return False


def check(template: dict[str, Any], listing: bool) -> list[str]:
    problems: list[str] = []
    resources: dict[str, Any] = template["Resources"]

    # -- IAM roles ----------------------------------------------------------------------------
    for logical, r in resources.items():
        if r.get("Type") != "AWS::IAM::Role":
            continue
        for policy in (r.get("Properties") or {}).get("Policies") or []:
            for s in statements(policy.get("PolicyDocument")):
                sid = s.get("Sid", "(no Sid)")
                where = f"{logical} {policy.get('PolicyName')} {sid}"
                actions = [a for a in as_list(s.get("Action")) if a is not None]
                resources_ = as_list(s.get("Resource"))
                if s.get("Effect") == "Allow":
                    for a in actions:
                        if a == "*" or (isinstance(a, str) and a.endswith(":*")):
                            problems.append(f"{where}: Action {a!r} is not least privilege")
                    if "NotAction" in s or "NotResource" in s:
                        problems.append(f"{where}: NotAction/NotResource in an Allow statement")
                    for res in resources_:
                        if res == "*" or res is None:
                            problems.append(f"{where}: Resource '*' (name the exact ARNs)")
                if listing:
                    print(f"{logical:<22} {sid:<44} {', '.join(map(str, actions))}")
                    for res in resources_:
                        print(f"{'':<22} {'':<44}   on {show(res)}")

    # -- checkov skips ------------------------------------------------------------------------
    for logical, r in resources.items():
        skips = (((r.get("Metadata") or {}).get("checkov") or {}).get("skip")) or []
        for skip in skips:
            if not isinstance(skip, dict) or not skip.get("id"):
                problems.append(f"{logical}: a checkov skip without an id: {skip!r}")
                continue
            comment = str(skip.get("comment") or "").strip()
            if len(comment) < 10:
                problems.append(f"{logical}: checkov skip {skip['id']} has no written reason (comment)")
            if listing:
                print(f"skip {skip['id']:<12} {logical:<26} {' '.join(comment.split())}")

    # -- zip spool fits the function's /tmp ----------------------------------------------------
    for logical, r in resources.items():
        if r.get("Type") != "AWS::Serverless::Function":
            continue
        props = r.get("Properties") or {}
        env = ((props.get("Environment") or {}).get("Variables")) or {}
        if "BILLWATCH_BUCKET" not in env:
            continue
        tmp_mb = int(((props.get("EphemeralStorage") or {}).get("Size")) or 512)
        spool = env.get("BILLWATCH_MAX_SPOOL_BYTES")
        if spool is None:
            problems.append(f"{logical}: BILLWATCH_MAX_SPOOL_BYTES is not set (the default is larger than /tmp)")
        elif int(spool) > tmp_mb * 1024 * 1024 * 0.95:
            problems.append(
                f"{logical}: BILLWATCH_MAX_SPOOL_BYTES {spool} does not fit its {tmp_mb} MB of /tmp "
                "(with 5 % headroom)"
            )

    # -- names the CLI derives from --stack -----------------------------------------------------
    found: set[str] = set()
    for logical, r in resources.items():
        if r.get("Type") not in FUNCTION_TYPES:
            continue
        env = ((((r.get("Properties") or {}).get("Environment")) or {}).get("Variables")) or {}
        for var, suffix in CLI_NAMES.items():
            value = env.get(var)
            if value is None:
                continue
            branches = value["Fn::If"][1:] if isinstance(value, dict) and "Fn::If" in value else [value]
            for target in filter(None, (logical_of(b) for b in branches)):
                props = (resources.get(target) or {}).get("Properties") or {}
                name = props.get("TableName", props.get("TopicName"))
                want = {"Fn::Sub": f"${{AWS::StackName}}-{suffix}"}
                if name != want:
                    problems.append(
                        f"{target} ({var} of {logical}) is named {show(name) if name else 'by CloudFormation'}, "
                        f'not !Sub "${{AWS::StackName}}-{suffix}": billwatch --stack would not find it'
                    )
                found.add(var)
    for var in sorted(set(CLI_NAMES) - {"BILLWATCH_CHAT_TOPIC_ARN"} - found):
        problems.append(f"no function has {var}: the CLI's names cannot be checked")

    # -- S3 -> Lambda cycle -------------------------------------------------------------------
    for bucket, r in resources.items():
        if r.get("Type") != "AWS::S3::Bucket":
            continue
        configs = (((r.get("Properties") or {}).get("NotificationConfiguration") or {}).get("LambdaConfigurations")) or []
        functions = {logical_of(c.get("Function")) for c in configs} - {None}
        for fn in sorted(f for f in functions if f in resources):
            props = dict(resources[fn].get("Properties") or {})
            props.pop("Events", None)
            if refers_to(props, bucket):
                problems.append(
                    f"{fn} refers to {bucket}, whose notification invokes {fn}: a circular dependency "
                    f'(write the bucket name as !Sub "..." instead)'
                )
            role_logical = logical_of(props.get("Role"))
            if role_logical in resources and refers_to(resources[role_logical].get("Properties"), bucket):
                problems.append(f"{role_logical} (role of {fn}) refers to {bucket}: a circular dependency")
            for logical, other in resources.items():
                if other.get("Type") == "AWS::Lambda::Permission" and refers_to(other.get("Properties"), fn):
                    if refers_to(other.get("Properties"), bucket):
                        problems.append(f"{logical} (invoke permission of {fn}) refers to {bucket}: a circular dependency")
    return problems


# -- deployment modes -------------------------------------------------------------------------

EXAMPLE_BUCKET = "example-billing-reports"
MODES: dict[str, dict[str, str]] = {
    "new-bucket": {"ExistingBucketName": "", "ReportPrefix": ""},
    "new-bucket-prefix": {"ExistingBucketName": "", "ReportPrefix": "cur/"},
    "existing-bucket": {"ExistingBucketName": EXAMPLE_BUCKET, "ReportPrefix": "cur/"},
}
FUNCTION = "ReportIngestFunction"
ROLE = "ReportIngestRole"
NEW_BUCKET_RESOURCES = ("BillingBucket", "BillingBucketPolicy", "ReportIngestInvokePermission")
EXISTING_BUCKET_RESOURCES = ("ReportCreatedRule", "ReportCreatedInvokePermission", "IngestFailureQueuePolicy")
SUFFIXES = (".csv", ".csv.zip", "-Manifest.json")


def check_mode(template: dict[str, Any], mode: str, params: dict[str, str]) -> list[str]:
    """The rules of one deployment mode, on the template resolved with its parameters."""
    problems: list[str] = []
    say = lambda msg: problems.append(f"mode {mode}: {msg}")  # noqa: E731
    res = st.Resolver(template, parameters=params)
    resources = res.resources
    prefix = params["ReportPrefix"]
    existing = params["ExistingBucketName"]
    bucket = existing or res.resolve({"Fn::Sub": "${AWS::StackName}-billing-${AWS::AccountId}"})
    for logical in NEW_BUCKET_RESOURCES + EXISTING_BUCKET_RESOURCES:
        if logical not in resources:
            say(f"{logical} is missing from the template")
            return problems
    wanted = EXISTING_BUCKET_RESOURCES if existing else NEW_BUCKET_RESOURCES
    unwanted = NEW_BUCKET_RESOURCES if existing else EXISTING_BUCKET_RESOURCES
    for logical in wanted:
        if not res.resource_enabled(logical):
            say(f"{logical} is not deployed")
    for logical in unwanted:
        if res.resource_enabled(logical):
            say(f"{logical} is deployed as well: two triggers for one object")

    # The trigger filters on the bucket and the prefix.
    if existing:
        rule = resources["ReportCreatedRule"].get("Properties") or {}
        pattern = res.resolve(rule.get("EventPattern") or {})
        if pattern.get("source") != ["aws.s3"] or pattern.get("detail-type") != ["Object Created"]:
            say("ReportCreatedRule does not match S3 'Object Created' events only")
        detail = pattern.get("detail") or {}
        if (detail.get("bucket") or {}).get("name") != [existing]:
            say(f"ReportCreatedRule does not filter on bucket {existing}: {detail.get('bucket')}")
        keys = (detail.get("object") or {}).get("key") or []
        wildcards = sorted(k.get("wildcard", "") for k in keys if isinstance(k, dict))
        want = sorted(f"{prefix}*{suffix}" for suffix in SUFFIXES)
        if wildcards != want or len(keys) != len(want):
            say(f"ReportCreatedRule's key filter is {keys}, expected wildcards {want}")
        targets = rule.get("Targets") or []
        if [logical_of(t.get("Arn")) for t in targets] != [FUNCTION]:
            say(f"ReportCreatedRule must target {FUNCTION} only")
        for t in targets:
            if logical_of((t.get("DeadLetterConfig") or {}).get("Arn")) != "IngestFailureQueue":
                say("ReportCreatedRule's target has no dead-letter queue IngestFailureQueue")
        perm = resources["ReportCreatedInvokePermission"].get("Properties") or {}
        if perm.get("Principal") != "events.amazonaws.com" or logical_of(perm.get("SourceArn")) != "ReportCreatedRule":
            say("ReportCreatedInvokePermission must admit events.amazonaws.com from ReportCreatedRule only")
        policy = resources["IngestFailureQueuePolicy"].get("Properties") or {}
        conditions = [s_.get("Condition") for s_ in statements(policy.get("PolicyDocument"))]
        if not conditions or any(
            logical_of(((c or {}).get("ArnEquals") or {}).get("aws:SourceArn")) != "ReportCreatedRule" for c in conditions
        ):
            say("IngestFailureQueuePolicy must admit the rule only (ArnEquals aws:SourceArn)")
    else:
        raw = (resources["BillingBucket"].get("Properties") or {}).get("NotificationConfiguration") or {}
        configs = raw.get("LambdaConfigurations") or []
        suffixes = []
        for c in configs:
            if logical_of(c.get("Function")) != FUNCTION:
                say(f"a notification of BillingBucket invokes {c.get('Function')}, not {FUNCTION}")
            rules = res.resolve(((c.get("Filter") or {}).get("S3Key") or {}).get("Rules") or [])
            by_name = {r["Name"]: r["Value"] for r in rules}
            suffixes.append(by_name.get("suffix"))
            if by_name.get("prefix", "") != prefix:
                say(f"notification for {by_name.get('suffix')} filters on prefix {by_name.get('prefix')!r}, not {prefix!r}")
        if sorted(s_ or "" for s_ in suffixes) != sorted(SUFFIXES):
            say(f"BillingBucket's notifications cover suffixes {suffixes}, expected {list(SUFFIXES)}")
        perm = resources["ReportIngestInvokePermission"].get("Properties") or {}
        if res.resolve(perm.get("SourceArn")) != f"arn:{res.partition}:s3:::{bucket}":
            say("ReportIngestInvokePermission is not limited to the billing bucket")

    # The role reads <bucket>/<prefix>* and nothing else of the billing bucket; it writes and
    # reads the month pages in the stack's own pages bucket, under pages/, and nothing else.
    role = resources[ROLE].get("Properties") or {}
    object_arn = f"arn:{res.partition}:s3:::{bucket}/{prefix}*"
    bucket_arn = f"arn:{res.partition}:s3:::{bucket}"
    pages_arn = f"arn:{res.partition}:s3:::{res.resolve({'Ref': 'PagesBucket'})}/pages/*"
    for policy in role.get("Policies") or []:
        for raw_statement in (policy.get("PolicyDocument") or {}).get("Statement") or []:
            if '"s3:' not in json.dumps(raw_statement):
                continue  # only S3 statements are resolved (others name unmodelled resources)
            statement = res.resolve(raw_statement)
            if statement is st.NO_VALUE or not isinstance(statement, dict):
                continue
            actions = as_list(statement.get("Action"))
            if not any(str(a).startswith("s3:") for a in actions):
                continue
            sid = statement.get("Sid", "(no Sid)")
            for resource in as_list(statement.get("Resource")):
                if resource == object_arn:
                    if set(actions) - {"s3:GetObject", "s3:GetObjectVersion"}:
                        say(f"{ROLE} {sid}: {actions} on {resource} (read only)")
                elif resource == pages_arn:
                    if set(actions) - {"s3:GetObject", "s3:PutObject"}:
                        say(f"{ROLE} {sid}: {actions} on the pages (PutObject and GetObject only)")
                elif resource == bucket_arn:
                    if actions != ["s3:ListBucket"]:
                        say(f"{ROLE} {sid}: {actions} on the bucket (ListBucket only)")
                    like = ((statement.get("Condition") or {}).get("StringLike") or {}).get("s3:prefix")
                    if prefix and like != f"{prefix}*":
                        say(f"{ROLE} {sid}: ListBucket is not limited to s3:prefix {prefix}*")
                elif str(resource).startswith(bucket_arn):
                    say(f"{ROLE} {sid}: S3 resource {resource} is not {object_arn}")
                else:
                    say(f"{ROLE} {sid}: S3 resource {resource} is neither {object_arn} nor the pages {pages_arn}")

    # The function is told the same bucket and prefix.
    fn = resources[FUNCTION].get("Properties") or {}
    env = (fn.get("Environment") or {}).get("Variables") or {}
    got_bucket = res.resolve(env.get("BILLWATCH_BUCKET"))
    got_prefix = res.resolve(env.get("BILLWATCH_REPORT_PREFIX", ""))
    if got_bucket != bucket:
        say(f"{FUNCTION}'s BILLWATCH_BUCKET is {got_bucket!r}, not {bucket!r}")
    if got_prefix != prefix:
        say(f"{FUNCTION}'s BILLWATCH_REPORT_PREFIX is {got_prefix!r}, not {prefix!r}")
    return problems


def check_dashboards(template: dict[str, Any]) -> list[str]:
    """Each dashboard body is JSON once its ${...} are filled in, its metric widgets name a
    region, and its billwatch metrics are in the namespace the function emits to."""
    problems: list[str] = []
    resources = template["Resources"]
    env = ((resources.get(FUNCTION, {}).get("Properties") or {}).get("Environment") or {}).get("Variables") or {}
    namespace = env.get("BILLWATCH_METRICS_NAMESPACE")
    if isinstance(namespace, dict) and "Fn::If" in namespace:  # [condition, on, off]
        namespace = namespace["Fn::If"][1]
    namespace = namespace.get("Fn::Sub") if isinstance(namespace, dict) else namespace
    for logical, r in resources.items():
        if r.get("Type") != "AWS::CloudWatch::Dashboard":
            continue
        body = (r.get("Properties") or {}).get("DashboardBody")
        text = body.get("Fn::Sub") if isinstance(body, dict) else body
        if not isinstance(text, str):
            problems.append(f"{logical}: DashboardBody is not a string or !Sub string")
            continue
        filled = re.sub(r"\$\{([^}]*)\}", lambda m: m.group(1).replace(":", "-").replace(".", "-"), text)
        try:
            doc = json.loads(filled)
        except json.JSONDecodeError as e:
            problems.append(f"{logical}: DashboardBody is not JSON: {e}")
            continue
        widgets = doc.get("widgets")
        if not isinstance(widgets, list) or not widgets:
            problems.append(f"{logical}: DashboardBody has no widgets")
            continue
        for i, w in enumerate(widgets):
            if w.get("type") == "metric" and not (w.get("properties") or {}).get("region"):
                problems.append(f"{logical}: widget {i} has no region")
        if namespace and "billwatch/" in text:
            for used in set(re.findall(r"billwatch/\$\{[^}]*\}", text)):
                if used != namespace:
                    problems.append(f"{logical}: namespace {used} is not the function's {namespace}")
    return problems


DASHBOARD_SCHEMA = Path(__file__).resolve().parent / "schemas" / "cloudwatch-dashboard-body.schema.json"
PSEUDO = {"AWS::Region": "us-east-1", "AWS::StackName": "billwatch", "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}


def dashboard_bodies(template: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(logical id, parsed body) of each dashboard, its ${...} filled as a deployment would
    (pseudo parameters by example values, other references by a name)."""
    for logical, r in template["Resources"].items():
        if r.get("Type") != "AWS::CloudWatch::Dashboard":
            continue
        body = (r.get("Properties") or {}).get("DashboardBody")
        text = body.get("Fn::Sub") if isinstance(body, dict) else body
        if not isinstance(text, str):
            continue  # check_dashboards reports it
        filled = re.sub(r"\$\{([^}]*)\}", lambda m: PSEUDO.get(m.group(1), "billwatch-" + m.group(1).replace(".", "-")), text)
        try:
            yield logical, json.loads(filled)
        except json.JSONDecodeError:
            continue  # check_dashboards reports it


def dashboard_body_problems(body: Any) -> list[str]:
    """`body` against the JSON Schema written from AWS's "Dashboard Body Structure and Syntax"
    (infra/schemas/), then what a schema cannot say: each metrics entry is [Namespace,
    MetricName, (DimensionName, DimensionValue)*, {rendering}?] or [{expression}], metric ids are
    unique within a widget, widgets fit the 24-column grid and do not overlap."""
    import jsonschema  # in .venv (moto depends on it)

    schema = json.loads(DASHBOARD_SCHEMA.read_text(encoding="utf-8"))
    out = [
        f"{'/'.join(str(p) for p in e.absolute_path) or '(body)'}: {e.message}"
        for e in jsonschema.Draft202012Validator(schema).iter_errors(body)
    ]
    if out or not isinstance(body, dict):
        return out
    cells: dict[tuple[int, int], int] = {}
    for i, w in enumerate(body.get("widgets") or []):
        x, y, width, height = w.get("x"), w.get("y"), w.get("width", 6), w.get("height", 6)
        if x is not None and y is not None:
            if x + width > 24:
                out.append(f"widgets/{i}: x {x} + width {width} runs past the 24-column grid")
            for cx in range(x, min(x + width, 24)):
                for cy in range(y, y + height):
                    if (cx, cy) in cells:
                        out.append(f"widgets/{i} overlaps widgets/{cells[(cx, cy)]} at x {cx}, y {cy}")
                        break
                    cells[(cx, cy)] = i
                else:
                    continue
                break
        if w.get("type") != "metric":
            continue
        ids: set[str] = set()
        for j, m in enumerate(w["properties"]["metrics"]):
            where = f"widgets/{i}/properties/metrics/{j}"
            objects = [k for k, v in enumerate(m) if isinstance(v, dict)]
            if objects and objects != [len(m) - 1]:
                out.append(f"{where}: the rendering object must come last, once")
            strings = [v for v in m if isinstance(v, str)]
            last = m[-1] if objects else {}
            if not strings:
                if "expression" not in last:
                    out.append(f"{where}: an entry without a namespace and metric name must be an expression")
            elif "expression" in last:
                out.append(f"{where}: an expression entry has no namespace or metric name")
            elif "..." not in strings and (len(strings) < 2 or len(strings) % 2):
                out.append(f"{where}: {strings} is not Namespace, MetricName and name/value pairs")
            elif (len(strings) - 2) // 2 > 30:
                out.append(f"{where}: more than 30 dimensions")
            if "id" in last:
                if last["id"] in ids:
                    out.append(f"{where}: id {last['id']!r} is used twice in the widget")
                ids.add(last["id"])
    return out


def check_dashboard_schema(template: dict[str, Any]) -> list[str]:
    """Every dashboard body is valid by the documented structure, and the check itself rejects
    bodies that break it (so a pass is not vacuous)."""
    problems = []
    for logical, body in dashboard_bodies(template):
        problems += [f"{logical}: {p}" for p in dashboard_body_problems(body)]
        broken = {
            "width 25": lambda b: b["widgets"][0].update(width=25),
            "x 24": lambda b: b["widgets"][0].update(x=24),
            "height 0": lambda b: b["widgets"][0].update(height=0),
            "period 90": lambda b: first_metric(b)["properties"].update(period=90),
            "view line": lambda b: first_metric(b)["properties"].update(view="line"),
            "no region": lambda b: first_metric(b)["properties"].pop("region"),
            "type graph": lambda b: b["widgets"][0].update(type="graph"),
            "upper-case metric id": lambda b: first_metric(b)["properties"]["metrics"].append([{"expression": "m1*2", "id": "Total"}]),
            "odd dimension list": lambda b: first_metric(b)["properties"]["metrics"].append(["AWS/Lambda", "Errors", "FunctionName"]),
            "overlapping widgets": lambda b: b["widgets"].append(dict(b["widgets"][0])),
        }
        for name, breakit in broken.items():
            bad = json.loads(json.dumps(body))
            breakit(bad)
            if not dashboard_body_problems(bad):
                problems.append(f"{logical}: a body with {name} passes the dashboard check: the check is too weak")
    return problems


def first_metric(body: dict[str, Any]) -> dict[str, Any]:
    return next(w for w in body["widgets"] if w.get("type") == "metric")


def with_defaults(text: str, params: dict[str, str]) -> str:
    """template.yaml's text with the Default of each parameter in `params` replaced."""
    for name, value in params.items():
        pattern = re.compile(rf"(\n  {re.escape(name)}:\n(?:    .*\n)*?    Default: ).*\n")
        text, n = pattern.subn(lambda m: m.group(1) + json.dumps(value) + "\n", text, count=1)
        if n != 1:
            raise st.TemplateError(f"parameter {name} has no Default line to replace")
    return text


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("--template", default=str(st.DEFAULT_TEMPLATE))
    p.add_argument("--list", action="store_true", help="print every IAM statement and checkov skip")
    p.add_argument("--write-mode", nargs=2, metavar=("MODE", "OUT"),
                   help=f"write the template with MODE's parameters as defaults to OUT ({', '.join(MODES)})")
    args = p.parse_args(argv)
    if args.write_mode:
        mode, out = args.write_mode
        if mode not in MODES:
            print(f"{PROG}: error: unknown mode {mode!r} (one of {', '.join(MODES)})", file=sys.stderr)
            return 2
        try:
            text = with_defaults(Path(args.template).read_text(encoding="utf-8"), MODES[mode])
        except (OSError, st.TemplateError) as e:
            print(f"{PROG}: error: {e}", file=sys.stderr)
            return 2
        Path(out).write_text(text, encoding="utf-8")
        print(f"{PROG}: wrote {out} ({mode}: {MODES[mode]})")
        return 0
    try:
        template = st.load_template(args.template)
    except st.TemplateError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    problems = check(template, args.list)
    problems += check_dashboards(template)
    problems += check_dashboard_schema(template)
    # The triggers' filters against every report key layout (infra/trigger_filters.py; moto's
    # EventBridge matcher, so the project's .venv).
    import trigger_filters

    trigger_problems, _ = trigger_filters.check(template)
    problems += [f"trigger filters: {p}" for p in trigger_problems]
    for mode, params in MODES.items():
        try:
            problems += check_mode(template, mode, params)
        except (st.TemplateError, KeyError, TypeError, AttributeError) as e:
            problems.append(f"mode {mode}: the template cannot be resolved: {e!r}")
    for line in problems:
        print(f"{PROG}: {line}", file=sys.stderr)
    if problems:
        print(f"{PROG}: {len(problems)} problem(s) in {args.template}", file=sys.stderr)
        return 1
    print(
        f"{PROG}: OK: no '*' in IAM roles, every checkov skip has a reason, the zip spool fits /tmp, "
        "no S3->Lambda cycle, tables and topics named after the stack; "
        f"modes {', '.join(MODES)}: one trigger each, filtered on bucket and "
        "prefix, role reads only <bucket>/<prefix>*; dashboard body is JSON and valid by the documented "
        "structure (infra/schemas/); "
        "trigger filters match every report key layout and nothing else"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
