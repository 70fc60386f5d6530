"""The policies billwatch's principals run with, in each deployment mode, and the evaluator.

A role's policies come from template.yaml, resolved for one mode's parameters by the same
resolver that builds the local stack (infra/local/stack_template.py); the CLI's from the policy
documents of docs/iam.md (cli-read-only.json, cli-operator.json in this folder), whose
placeholders ${Partition}, ${Region}, ${Account}, ${StackName}, ${BillingBucket} and
${ReportPrefix} are filled in the same way. Evaluation is @cloud-copilot/iam-simulate's
(simulate.mjs), run once for every request of a check.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "infra" / "local"))
sys.dont_write_bytecode = True

import stack_template as st  # noqa: E402
from calls import Authorization, Resource  # noqa: E402

ACCOUNT = st.DEFAULT_ACCOUNT
REGION = "us-east-1"
STACK = st.DEFAULT_STACK
EXISTING_BUCKET = "acme-billing-reports"
TEAM_TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:team-data-alerts"

# Every way the template can be deployed that changes a role: new bucket or an existing one
# (with a report prefix), the chat topic on or off, budget topics of their own or none.
MODES: dict[str, dict[str, str]] = {
    "new-bucket": {},
    "new-bucket+chat+budget-topics": {"EnableChatTopic": "true", "ExtraAlertTopicArns": TEAM_TOPIC},
    "existing-bucket+prefix+chat": {
        "ExistingBucketName": EXISTING_BUCKET,
        "ReportPrefix": "billing/exports/",
        "EnableChatTopic": "true",
    },
    "existing-bucket+budget-topics": {"ExistingBucketName": EXISTING_BUCKET, "ExtraAlertTopicArns": TEAM_TOPIC},
}


class Mode:
    """One deployment: the template resolved with its parameters, and how resources render."""

    def __init__(self, name: str, template: dict[str, Any]) -> None:
        self.name = name
        self.template = template
        self.r = st.Resolver(template, STACK, ACCOUNT, REGION, MODES[name])
        existing = self.r.params.get("ExistingBucketName") or ""
        self.bucket = existing or f"{STACK}-billing-{ACCOUNT}"
        self.prefix = self.r.params.get("ReportPrefix") or ""

    def placeholders(self) -> dict[str, str]:
        return {
            "Partition": self.r.partition,
            "Region": REGION,
            "Account": ACCOUNT,
            "StackName": STACK,
            "BillingBucket": self.bucket,
            "ReportPrefix": self.prefix,
        }

    def fill(self, text: str) -> str:
        for key, value in self.placeholders().items():
            text = text.replace("${" + key + "}", value)
        return text

    def arn(self, resource: Resource) -> str | None:
        """The resource's ARN in this mode; None where the mode has no such resource (the code
        then makes no such call: no chat topic configured, no budget topics allowed)."""
        p = self.r.partition
        if resource.kind == "table":
            arn = self.r.get_att(resource.name, "Arn")
            return f"{arn}/index/{resource.extra}" if resource.extra else arn
        if resource.kind == "object":
            return f"arn:{p}:s3:::{self.bucket}/{self.prefix}{resource.name}"
        if resource.kind == "bucket":
            return f"arn:{p}:s3:::{self.bucket}"
        if resource.kind == "pages":
            return f"arn:{p}:s3:::{STACK}-pages-{ACCOUNT}/{resource.name}"
        if resource.kind == "topic":
            if resource.name == "alert":
                return self.r.ref("AlertTopic")
            if resource.name == "ops":
                return self.r.ref("OpsTopic")
            if resource.name == "chat":
                return self.r.ref("ChatTopic") if self.r.resource_enabled("ChatTopic") else None
            if resource.name == "extra":
                return self.r.params["ExtraAlertTopicArns"][0] if self.r.condition("HasExtraAlertTopics") else None
        if resource.kind == "queue":
            return f"arn:{p}:sqs:{REGION}:{ACCOUNT}:{resource.name}"
        if resource.kind == "function":
            return self.fill(f"arn:{p}:lambda:{REGION}:{ACCOUNT}:function:{resource.name}")
        if resource.kind == "arn":
            return self.fill(resource.name)
        if resource.kind == "any":
            return "*"
        raise ValueError(f"no ARN for {resource}")

    def context(self, auth: Authorization) -> dict[str, str]:
        out = {}
        for key, value in auth.context:
            out[key] = self.prefix + value if key == "s3:prefix" else value
        return out

    # -- policies ---------------------------------------------------------------------------

    def role_policy(self, role: str) -> dict[str, Any]:
        """The role's inline policies, resolved, as one document."""
        props = self.template["Resources"][role]["Properties"]
        statements: list[dict[str, Any]] = []
        for policy in self.r.resolve(props.get("Policies") or []):
            statements.extend(policy["PolicyDocument"]["Statement"])
        return {"Version": "2012-10-17", "Statement": statements}

    def file_policy(self, name: str) -> dict[str, Any]:
        return json.loads(self.fill((HERE / name).read_text(encoding="utf-8")))


def role_justifications(template: dict[str, Any], role: str) -> dict[str, str]:
    """Sid -> why a grant of that statement is never exercised by a call of the code (the role's
    Metadata: billwatch-iam: unexercised)."""
    meta = (template["Resources"][role].get("Metadata") or {}).get("billwatch-iam") or {}
    return dict(meta.get("unexercised") or {})


@dataclass(frozen=True)
class Grant:
    """One action on one resource pattern of one statement: the unit of "unused"."""

    sid: str
    action: str
    resource: str


def split_statements(policy: dict[str, Any], tag: str) -> tuple[dict[str, Any], dict[str, Grant]]:
    """The same policy with every Allow statement cut into one action on one resource each
    (equivalent for evaluation), numbered (`tag`G1, G2, ...), so the evaluator's answer names
    the grant used."""
    out: list[dict[str, Any]] = []
    grants: dict[str, Grant] = {}
    for i, s in enumerate(policy["Statement"]):
        sid = s.get("Sid") or f"statement{i + 1}"
        actions = s.get("Action")
        resources = s.get("Resource")
        if s.get("Effect") != "Allow" or actions is None or resources is None:
            out.append(s)
            continue
        for action in [actions] if isinstance(actions, str) else actions:
            for resource in [resources] if isinstance(resources, str) else resources:
                n = f"{tag}G{len(grants) + 1}"
                grants[n] = Grant(sid, action, resource)
                one = copy.deepcopy(s)
                one["Sid"], one["Action"], one["Resource"] = n, action, resource
                out.append(one)
    return {"Version": policy.get("Version", "2012-10-17"), "Statement": out}, grants


# --------------------------------------------------------------------------------------------
# The evaluator
# --------------------------------------------------------------------------------------------


def ensure_evaluator() -> Path:
    """infra/iam/node_modules from the lock file (npm ci), once; the node binary's path."""
    node = shutil.which("node")
    npm = shutil.which("npm")
    if not node or not npm:
        raise SystemExit(
            "check_calls.py: ERROR: Node.js and npm are needed for the IAM policy evaluator "
            "(@cloud-copilot/iam-simulate); install them (Debian: apt-get install nodejs npm)"
        )
    stamp = HERE / "node_modules" / ".billwatch-lock"
    lock = (HERE / "package-lock.json").read_text(encoding="utf-8")
    if not stamp.exists() or stamp.read_text(encoding="utf-8") != lock:
        print("check_calls.py: installing the IAM policy evaluator (npm ci)", file=sys.stderr)
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=HERE,
            check=True,
            stdout=sys.stderr,
            env={**os.environ, "npm_config_update_notifier": "false"},
        )
        stamp.write_text(lock, encoding="utf-8")
    return Path(node)


def evaluate(policies: dict[str, Any], requests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """id -> {"result", "allow", "error"} for every request (see simulate.mjs)."""
    node = ensure_evaluator()
    lines = [json.dumps({"policies": policies})] + [json.dumps(r) for r in requests]
    done = subprocess.run(
        [str(node), str(HERE / "simulate.mjs")],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"check_calls.py: the evaluator failed:\n{done.stderr}")
    answers = {}
    for line in done.stdout.splitlines():
        if line.strip():
            a = json.loads(line)
            answers[a["id"]] = a
    missing = [r["id"] for r in requests if r["id"] not in answers]
    if missing:
        raise SystemExit(f"check_calls.py: the evaluator gave no answer for {len(missing)} requests")
    return answers
