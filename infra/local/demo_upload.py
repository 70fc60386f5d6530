#!/usr/bin/env python3
"""Upload one's own billing report into the local stack's bucket as AWS would lay it out, and
print the key whose S3 event makes billwatch read it (for `./scripts/demo FILE`).

    infra/local/demo_upload.py BUCKET FILE [BUCKET_DIR]

  * a legacy monthly / cost allocation CSV or a DBR zip: uploaded under billing/ with its own
    name (billwatch reads the payer and month from it);
  * a CUR 1.0 or Data Exports manifest: the manifest and the parts it lists, found under
    BUCKET_DIR (the local copy of the bucket's root; default: the nearest folder above the
    manifest that holds its first part), keeping their keys; Data Exports part URIs are
    pointed at BUCKET;
  * any other CSV / gzip (a CUR or FOCUS part): AWS only ever delivers those with a manifest,
    so a CUR 1.0 manifest is written for it in a date-range folder of its month
    (--period YYYY-MM as the 4th argument, else read from the file by `billwatch summarize`).

Prints the key to deliver on stdout; what it uploads on stderr.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import boto3

LEGACY = re.compile(
    r"^\d{12}-aws-(billing-csv|cost-allocation|billing-detailed-line-items(-with-resources-and-tags)?)-\d{4}-\d{2}\.csv(\.zip)?$"
)


def upload(s3, bucket: str, path: Path, key: str) -> None:
    print(f"demo_upload.py: s3://{bucket}/{key} <- {path}", file=sys.stderr)
    s3.upload_file(str(path), bucket, key)


def part_keys(manifest: dict) -> list[str]:
    if manifest.get("reportKeys"):
        return list(manifest["reportKeys"])
    keys = []
    for uri in manifest.get("dataFiles") or []:
        rest = uri.removeprefix("s3://")
        keys.append(rest.split("/", 1)[1] if "/" in rest else rest)
    return keys


def root_of(manifest_path: Path, first_key: str) -> Path:
    for folder in manifest_path.resolve().parents:
        if (folder / first_key).is_file():
            return folder
    sys.exit(f"demo_upload.py: none of the folders above {manifest_path} holds its first part "
             f"{first_key}: pass the folder that stands for the bucket's root")


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    bucket, path = argv[0], Path(argv[1])
    bucket_dir = Path(argv[2]) if len(argv) > 2 and argv[2] else None
    period = argv[3] if len(argv) > 3 else None
    if not path.is_file():
        sys.exit(f"demo_upload.py: {path}: no such file")
    s3 = boto3.client("s3")
    name = path.name
    if LEGACY.match(name):
        key = f"billing/{name}"
        upload(s3, bucket, path, key)
    elif name.endswith(".json"):
        manifest = json.loads(path.read_text())
        keys = part_keys(manifest)
        if not keys:
            sys.exit(f"demo_upload.py: {path} lists no parts")
        root = bucket_dir or root_of(path, keys[0])
        try:
            key = str(path.resolve().relative_to(root.resolve()))
        except ValueError:
            sys.exit(f"demo_upload.py: {path} is not under {root}")
        for k in keys:
            upload(s3, bucket, root / k, k)
        if manifest.get("dataFiles"):
            manifest["dataFiles"] = [f"s3://{bucket}/{k}" for k in keys]
        tmp = Path(f"/tmp/demo-manifest-{abs(hash(key))}.json")
        tmp.write_text(json.dumps(manifest))
        upload(s3, bucket, tmp, key)
        tmp.unlink()
    else:
        if not period or not re.fullmatch(r"\d{4}-\d{2}", period):
            sys.exit(f"demo_upload.py: {path}: give the billing period (YYYY-MM) of this CUR or FOCUS file")
        y, m = map(int, period.split("-"))
        ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
        folder = f"cur/demo/{y:04d}{m:02d}01-{ny:04d}{nm:02d}01"
        part = f"{folder}/demo-assembly/{name}"
        upload(s3, bucket, path, part)
        manifest = {"reportKeys": [part], "bucket": bucket, "reportName": "demo",
                    "billingPeriod": {"start": f"{y:04d}{m:02d}01T000000.000Z",
                                      "end": f"{ny:04d}{nm:02d}01T000000.000Z"},
                    "columns": []}
        key = f"{folder}/demo-Manifest.json"
        tmp = Path(f"/tmp/demo-manifest-{abs(hash(key))}.json")
        tmp.write_text(json.dumps(manifest))
        upload(s3, bucket, tmp, key)
        tmp.unlink()
    print(key)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
