#!/usr/bin/env python3
"""Print a deployed billwatch stack's CloudFormation outputs (real AWS, your credentials).

    infra/stack_outputs.py [--stack-name billwatch] [--region REGION] [KEY]

Without KEY: every output as KEY=VALUE lines. With KEY: that output's value alone, e.g.
`eval "$(infra/stack_outputs.py CliEnvironment)"` exports the billwatch CLI's environment.
Credentials and region come from the usual AWS environment (AWS_PROFILE, AWS_REGION,
AWS_DEFAULT_REGION, ~/.aws). boto3 itself reads only AWS_DEFAULT_REGION, so AWS_REGION is
passed to it here (and wins, as in the AWS CLI and the SDKs).
Exit status: 0, 1 when the stack or the output does not exist or AWS cannot be reached.
Needs boto3 (the project's .venv has it; scripts/stack-output runs it from there).
"""

from __future__ import annotations

import argparse
import os
import sys

sys.dont_write_bytecode = True

PROG = "stack_outputs.py"


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("--stack-name", default="billwatch", help="stack name (default: %(default)s)")
    p.add_argument(
        "--region",
        default=os.environ.get("AWS_REGION") or None,
        help="AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, then the profile's)",
    )
    p.add_argument("key", nargs="?", help="one output key, e.g. CliEnvironment")
    args = p.parse_args(argv)

    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, NoRegionError

    try:
        client = boto3.client("cloudformation", region_name=args.region)
        stacks = client.describe_stacks(StackName=args.stack_name)["Stacks"]
    except NoRegionError:
        print(
            f"{PROG}: error: no AWS region: pass --region, set AWS_REGION, or run "
            "`aws configure` to give your profile one",
            file=sys.stderr,
        )
        return 1
    except (BotoCoreError, ClientError) as e:
        print(f"{PROG}: error: cannot read stack {args.stack_name}: {e}", file=sys.stderr)
        return 1
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    if args.key is None:
        for k in sorted(outputs):
            print(f"{k}={outputs[k]}")
        return 0
    if args.key not in outputs:
        print(
            f"{PROG}: error: stack {args.stack_name} has no output {args.key} "
            f"(it has: {', '.join(sorted(outputs)) or 'none'}); deployed from an older template.yaml?",
            file=sys.stderr,
        )
        return 1
    print(outputs[args.key])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
