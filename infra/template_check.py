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

--list prints every IAM role statement (role, Sid, actions, resources) and every checkov skip.
Exit status: 0 clean, 1 with one "template_check.py: ..." line per problem, 2 unreadable template.
Needs PyYAML only (the project's .venv has it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Iterator

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent / "local"))

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


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("--template", default=str(st.DEFAULT_TEMPLATE))
    p.add_argument("--list", action="store_true", help="print every IAM statement and checkov skip")
    args = p.parse_args(argv)
    try:
        template = st.load_template(args.template)
    except st.TemplateError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    problems = check(template, args.list)
    for line in problems:
        print(f"{PROG}: {line}", file=sys.stderr)
    if problems:
        print(f"{PROG}: {len(problems)} problem(s) in {args.template}", file=sys.stderr)
        return 1
    print(
        f"{PROG}: OK: no '*' in IAM roles, every checkov skip has a reason, the zip spool fits /tmp, "
        "no S3->Lambda cycle, tables and topics named after the stack"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
