#!/usr/bin/env python3
"""Permissions conformance: the calls billwatch made in the tests against the policies it has.

    infra/iam/check_calls.py --log CALLS.jsonl [--template template.yaml] [--partial] [--mutations]

The emulator authorizes nothing, so the tests alone would pass with a role that AWS refuses.
./scripts/test records every AWS call the ingest function, the health-check function and the
CLI make (infra/local/call_log.py; each signs with keys of its own, tests/support/principals.rs).
This script turns each call into the authorizations AWS makes for it (calls.py: a transaction
item by item, a batch table by table), renders them for every deployment mode of the template
(policies.MODES), and evaluates them with a real IAM policy evaluator against the role the
template gives that function, or the CLI policy of docs/iam.md. It fails on:

  * a call the policy does not allow: the call, the mode, and the statement it needed;
  * a grant (one action on one resource of a statement) that no call used in a mode where the
    statement exists, unless the role's Metadata (billwatch-iam: unexercised: {Sid: why}) or
    principals.json says why it is there: least privilege both ways. --partial (a run of part
    of the tests) skips this half;
  * a call it cannot map to IAM actions.

Its last line: "calls N, allowed N, denied 0, unused grants 0".

--mutations checks the check: with one used grant taken out of ReportIngestRole it must report
a denied call, and with one action no call uses added it must report an unused grant.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))

import policies as pol  # noqa: E402
from calls import Authorization, Names, Unmapped, authorizations  # noqa: E402

HERE = pol.HERE


def load_log(path: Path) -> list[dict[str, Any]]:
    entries = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    entries.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise SystemExit(f"{path}:{n}: not a JSON line: {e}") from e
    return entries


def table_names(template: dict[str, Any]) -> Names:
    r = pol.st.Resolver(template, pol.STACK, pol.ACCOUNT, pol.REGION)
    tables = {
        r.physical_id(logical): logical
        for logical, res in template["Resources"].items()
        if res.get("Type") == "AWS::DynamoDB::Table"
    }
    return Names(tables=tables, stack=pol.STACK)


def describe(entry: dict[str, Any]) -> str:
    what = entry.get("target") or f"{entry['method']} {entry['path']}"
    if entry.get("query"):
        what += "?" + entry["query"][:80]
    return f"{entry['service']} {what}"


class Check:
    def __init__(self, template: dict[str, Any], entries: list[dict[str, Any]], partial: bool) -> None:
        self.template = template
        self.entries = entries
        self.partial = partial
        spec = json.loads((HERE / "principals.json").read_text())
        self.principals = {k: v for k, v in spec.items() if not k.startswith("_")}
        self.unexercised: dict[str, dict[str, str]] = spec.get("_unexercised", {})
        self.lines: list[str] = []

    @staticmethod
    def documents(spec: dict[str, Any]) -> list[str]:
        """The policy documents a principal has: its role, or the CLI policy files."""
        return [spec["role"]] if "role" in spec else list(spec["policies"])

    def run(self) -> dict[str, int]:
        names = table_names(self.template)
        unmapped: list[str] = []
        calls: list[tuple[str, list[Authorization]]] = []  # (akid, authorizations) per entry
        for entry in self.entries:
            akid = entry["akid"]
            if akid not in self.principals:
                unmapped.append(f"unknown principal key {akid} ({describe(entry)})")
                continue
            try:
                calls.append((akid, authorizations(entry, names)))
            except (Unmapped, KeyError) as e:
                unmapped.append(f"{self.principals[akid]['name']}: {describe(entry)}: {e}")

        # Every policy document once per mode, named "<mode> / <role or file>".
        policies: dict[str, Any] = {}
        grants: dict[str, dict[str, pol.Grant]] = {}  # policy name -> grant id -> grant
        justified: dict[str, dict[str, str]] = {}  # document -> Sid -> why it is never exercised
        modes = [pol.Mode(name, self.template) for name in pol.MODES]
        documents = sorted({d for spec in self.principals.values() for d in self.documents(spec)})
        for mode in modes:
            for i, document in enumerate(documents):
                if document.endswith(".json"):
                    doc = mode.file_policy(document)
                    justified[document] = dict(self.unexercised.get(document) or {})
                else:
                    doc = mode.role_policy(document)
                    justified[document] = pol.role_justifications(self.template, document)
                name = f"{mode.name} / {document}"
                policies[name], grants[name] = pol.split_statements(doc, f"P{i}")

        requests: dict[tuple, dict[str, Any]] = {}
        per_call: list[list[tuple]] = []
        for akid, auths in calls:
            keys = []
            spec = self.principals[akid]
            for mode in modes:
                policy = f"{mode.name} / {spec['name']}"
                identity = [f"{mode.name} / {d}" for d in self.documents(spec)]
                for auth in auths:
                    arn = mode.arn(auth.resource)
                    if arn is None:
                        continue
                    context = mode.context(auth)
                    key = (policy, auth.action, arn, json.dumps(context, sort_keys=True))
                    if key not in requests:
                        requests[key] = {
                            "id": str(len(requests)),
                            "principal": f"arn:aws:sts::{pol.ACCOUNT}:assumed-role/{akid}/billwatch",
                            "action": auth.action,
                            "resource": arn,
                            "account": pol.ACCOUNT,
                            "context": context,
                            "identity": identity,
                            "operation": auth.operation,
                        }
                    keys.append(key)
            per_call.append(keys)

        answers = pol.evaluate(policies, list(requests.values())) if requests else {}

        denied_keys = {k for k, r in requests.items() if answers[r["id"]]["result"] != "Allowed"}
        allowed_calls = sum(1 for keys in per_call if not any(k in denied_keys for k in keys))
        grouped: dict[tuple, list[str]] = defaultdict(list)
        for key in sorted(denied_keys):
            policy, action, arn, context = key
            mode_name, principal_name = policy.split(" / ", 1)
            a = answers[requests[key]["id"]]
            why = f"{a['result']}" + (f": {a['error']}" if a.get("error") else "")
            grouped[(principal_name, action, arn, context, requests[key]["operation"], why)].append(mode_name)
        for (principal_name, action, arn, context, operation, why), mode_names in sorted(grouped.items()):
            needed = {"Effect": "Allow", "Action": action, "Resource": arn}
            ctx = f" with {context}" if context != "{}" else ""
            self.lines.append(
                f"DENIED  {principal_name}: {action} on {arn}{ctx} (from {operation}; {why}; modes: "
                f"{' | '.join(mode_names)}); needs a statement like {json.dumps(needed)}"
            )

        unused = 0
        if not self.partial:
            used: dict[str, set[str]] = defaultdict(set)  # mode name -> grant ids that allowed a call
            for key, r in requests.items():
                used[key[0].split(" / ", 1)[0]].update(answers[r["id"]]["allow"])
            # A grant (document, Sid, action, resource as rendered) is unused when no call used it
            # in any mode where it exists (a statement the same in two modes is proven by either).
            seen: dict[tuple, list[str]] = defaultdict(list)
            exercised: set[tuple] = set()
            for policy, gs in grants.items():
                mode_name, document = policy.split(" / ", 1)
                for gid, grant in gs.items():
                    key = (document, grant.sid, grant.action, grant.resource)
                    seen[key].append(mode_name)
                    if gid in used[mode_name] or grant.sid in justified[document]:
                        exercised.add(key)
            reported = {k: v for k, v in seen.items() if k not in exercised}
            for (document, sid, action, resource), mode_names in sorted(reported.items()):
                unused += 1
                where = "the role's Metadata billwatch-iam: unexercised" if not document.endswith(".json") else "infra/iam/principals.json _unexercised"
                self.lines.append(
                    f"UNUSED  {document}: statement {sid} grants {action} on {resource}, which no call "
                    f"used (modes: {' | '.join(mode_names)}); remove it, or say why it is there ({where})"
                )
        for u in unmapped:
            self.lines.append(f"UNMAPPED {u}")
        return {
            "calls": len(self.entries),
            "allowed": allowed_calls if not unmapped else allowed_calls,
            "denied": len(per_call) - allowed_calls,
            "unused": unused,
            "unmapped": len(unmapped),
            "checks": len(requests),
        }


DOC = pol.REPO / "docs" / "iam.md"


def doc_copies(text: str) -> dict[str, str]:
    """file name -> the JSON block that follows its marker comment in docs/iam.md."""
    out = {}
    for m in re.finditer(r"<!-- infra/iam/([\w.-]+\.json):[^>]*-->\s*```json\n(.*?)```", text, re.S):
        out[m.group(1)] = m.group(2)
    return out


def docs_in_step(write: bool) -> list[str]:
    """docs/iam.md carries each CLI policy file verbatim (--write-docs copies them in); the README
    links there rather than holding a copy."""
    problems = []
    files = sorted({f for s in json.loads((HERE / "principals.json").read_text()).values() if isinstance(s, dict) for f in s.get("policies", [])})
    text = DOC.read_text(encoding="utf-8")
    copies = doc_copies(text)
    for name in files:
        body = (HERE / name).read_text(encoding="utf-8")
        if name not in copies:
            problems.append(f"{DOC.name} has no copy of infra/iam/{name}")
        elif json.loads(copies[name]) != json.loads(body):
            if write:
                text = text.replace(copies[name], body)
            else:
                problems.append(f"{DOC.name}'s copy of infra/iam/{name} differs from the file (run with --write-docs)")
    if write:
        DOC.write_text(text, encoding="utf-8")
    return problems


def summary_line(n: dict[str, int]) -> str:
    line = f"calls {n['calls']}, allowed {n['allowed']}, denied {n['denied']}, unused grants {n['unused']}"
    if n["unmapped"]:
        line += f", unmapped {n['unmapped']}"
    return line


def failed(n: dict[str, int]) -> bool:
    return bool(n["denied"] or n["unused"] or n["unmapped"] or not n["calls"])


# --------------------------------------------------------------------------------------------
# --mutations: the check catches a missing grant and a needless one
# --------------------------------------------------------------------------------------------


def _statements(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """The role's statements as written (an !If's first branch included)."""
    out = []
    for policy in template["Resources"][role]["Properties"]["Policies"]:
        for s in policy["PolicyDocument"]["Statement"]:
            if isinstance(s, dict) and "Fn::If" in s:
                s = s["Fn::If"][1]
            if isinstance(s, dict) and "Sid" in s:
                out.append(s)
    return out


def mutations(template: dict[str, Any], entries: list[dict[str, Any]]) -> int:
    status = 0
    removed = copy.deepcopy(template)
    target = next(s for s in _statements(removed, "ReportIngestRole") if s["Sid"] == "ReportsSequencersPointersAndIngestRecords")
    actions = target["Action"] if isinstance(target["Action"], list) else [target["Action"]]
    gone = "dynamodb:UpdateItem" if "dynamodb:UpdateItem" in actions else actions[0]
    target["Action"] = [a for a in actions if a != gone]
    n = Check(removed, entries, partial=False).run()
    ok = n["denied"] > 0
    print(f"mutation: {gone} taken out of ReportIngestRole/{target['Sid']}: {summary_line(n)} -> {'caught' if ok else 'NOT CAUGHT'}")
    status |= 0 if ok else 1

    added = copy.deepcopy(template)
    target = next(s for s in _statements(added, "ReportIngestRole") if s["Sid"] == "TotalsWriteVersionsAndDeleteOldOnes")
    actions = target["Action"] if isinstance(target["Action"], list) else [target["Action"]]
    target["Action"] = actions + ["dynamodb:Scan"]
    n = Check(added, entries, partial=False).run()
    ok = n["unused"] > 0
    print(f"mutation: dynamodb:Scan added to ReportIngestRole/{target['Sid']}: {summary_line(n)} -> {'caught' if ok else 'NOT CAUGHT'}")
    status |= 0 if ok else 1
    return status


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--log", required=True, type=Path, help="the call log ./scripts/test recorded")
    ap.add_argument("--template", type=Path, default=pol.st.DEFAULT_TEMPLATE)
    ap.add_argument("--partial", action="store_true", help="part of the tests ran: check denials only")
    ap.add_argument("--mutations", action="store_true", help="also show that a removed or a needless grant is caught")
    ap.add_argument("--quiet", action="store_true", help="only the findings and the summary line")
    ap.add_argument("--write-docs", action="store_true", help="copy the CLI policies into docs/iam.md")
    args = ap.parse_args(argv)
    doc_problems = docs_in_step(args.write_docs)
    for p in doc_problems:
        print(f"DOCS    {p}")
    if not args.log.exists():
        print(f"check_calls.py: no call log at {args.log}: run the tests through ./scripts/test", file=sys.stderr)
        return 1
    template = pol.st.load_template(args.template)
    entries = load_log(args.log)
    check = Check(template, entries, args.partial)
    n = check.run()
    for line in check.lines:
        print(line)
    if not args.quiet:
        by = defaultdict(int)
        for e in entries:
            by[check.principals.get(e["akid"], {}).get("name", e["akid"])] += 1
        print("recorded: " + ", ".join(f"{k} {v}" for k, v in sorted(by.items())) + f"; {n['checks']} distinct authorizations in {len(pol.MODES)} deployment modes")
    print(summary_line(n))
    status = 1 if failed(n) or doc_problems else 0
    if args.mutations:
        status |= mutations(template, entries)
    return status


if __name__ == "__main__":
    sys.exit(main())
