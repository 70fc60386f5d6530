#!/usr/bin/env python3
"""Print the S3 event notification AWS would send for an object, for `cargo lambda invoke`.

    infra/local/s3_event.py BUCKET KEY > event.json            # object in the emulator
    cargo lambda invoke report-ingest --data-file event.json
    infra/local/s3_event.py --from-file PATH BUCKET KEY         # no emulator: size/ETag of PATH
    infra/local/s3_event.py --test-event BUCKET                 # the s3:TestEvent message
    infra/local/s3_event.py --eventbridge BUCKET KEY            # the EventBridge event instead

The JSON has the exact shape of an S3 -> Lambda notification (event version 2.1), which moto's
own notifications lack (no time zone on eventTime, no userIdentity, requestParameters or
responseElements; see the reference, section 3.1):

  * KEY is the object's real (decoded) key; the event carries it URL-encoded the way S3 does,
    spaces as '+' and other bytes as %XX, '/' kept: urllib.parse.quote_plus(key, safe='/').
  * size, eTag (without quotes) and versionId come from a HEAD of the object in the emulator
    ($AWS_ENDPOINT_URL); versionId is left out when the bucket is not versioned, as S3 does.
  * eventTime is now (UTC, milliseconds, 'Z'); sequencer is 18 upper-case hex digits from
    time.time_ns(), so later events for a key get greater sequencers (as S3's do for one key).
    With --event-time and no --sequencer, the sequencer comes from that time instead, so
    fixtures and live events sort on one scale.
  * x-amz-request-id / x-amz-id-2 are derived from bucket, key and sequencer (stable for the
    same inputs, distinct between events).

A warning goes to stderr when KEY matches none of the template's notification suffixes
(S3 would not invoke the function for it).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
import time
import urllib.parse
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NoReturn

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))

PROG = "s3_event.py"

# Illustrative identities. AWS fills these with the writer's principal and the bucket owner's
# canonical id; code must not depend on their values.
WRITER_PRINCIPAL = "AWS:AROAEXAMPLEBILLWATCH01:billwatch-local"
OWNER_PRINCIPAL = "A1B2C3D4EXAMPLEOWNER"
SOURCE_IP = "127.0.0.1"


def fail(msg: str, code: int = 1) -> NoReturn:
    print(f"{PROG}: error: {msg}", file=sys.stderr)
    sys.exit(code)


def encode_key(key: str) -> str:
    """S3's URL encoding of a key in notifications: form encoding, '/' kept."""
    return urllib.parse.quote_plus(key, safe="/")


def now_event_time() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_sequencer(ns: int | None = None) -> str:
    return f"{time.time_ns() if ns is None else ns:018X}"


def request_ids(bucket: str, key: str, sequencer: str) -> tuple[str, str]:
    seed = f"{bucket}/{key}#{sequencer}".encode()
    request_id = hashlib.sha256(b"request-id:" + seed).hexdigest()[:16].upper()
    id2 = base64.b64encode(hashlib.sha512(b"id-2:" + seed).digest()[:57]).decode()
    return request_id, id2


def object_created_event(
    *,
    bucket: str,
    key: str,
    size: int,
    etag: str,
    version_id: str | None,
    region: str,
    event_time: str,
    sequencer: str,
    event_name: str = "ObjectCreated:Put",
    configuration_id: str = "billwatch-report-ingest",
    partition: str = "aws",
) -> dict[str, Any]:
    request_id, id2 = request_ids(bucket, key, sequencer)
    obj: dict[str, Any] = {"key": encode_key(key), "size": size, "eTag": etag.strip('"')}
    if version_id and version_id != "null":
        obj["versionId"] = version_id
    obj["sequencer"] = sequencer
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": event_time,
                "eventName": event_name,
                "userIdentity": {"principalId": WRITER_PRINCIPAL},
                "requestParameters": {"sourceIPAddress": SOURCE_IP},
                "responseElements": {"x-amz-request-id": request_id, "x-amz-id-2": id2},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": configuration_id,
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": OWNER_PRINCIPAL},
                        "arn": f"arn:{partition}:s3:::{bucket}",
                    },
                    "object": obj,
                },
            }
        ]
    }


def as_eventbridge(notification: dict[str, Any], account: str) -> dict[str, Any]:
    """The Amazon EventBridge "Object Created" event S3 sends for the same object (shape of the
    S3 User Guide's example, infra/local/events/README): the same URL-encoded key, size, ETag,
    version id and sequencer; `time` in whole seconds."""
    record = notification["Records"][0]
    obj = record["s3"]["object"]
    bucket = record["s3"]["bucket"]["name"]
    detail_obj = {"key": obj["key"], "size": obj["size"], "etag": obj["eTag"]}
    if "versionId" in obj:
        detail_obj["version-id"] = obj["versionId"]
    detail_obj["sequencer"] = obj["sequencer"]
    reason = {
        "ObjectCreated:Put": "PutObject",
        "ObjectCreated:Post": "PostObject",
        "ObjectCreated:Copy": "CopyObject",
        "ObjectCreated:CompleteMultipartUpload": "CompleteMultipartUpload",
    }.get(record["eventName"], "PutObject")
    request_id = record["responseElements"]["x-amz-request-id"]
    digest = hashlib.sha256(f"eventbridge:{bucket}/{obj['key']}#{obj['sequencer']}".encode()).hexdigest()
    return {
        "version": "0",
        "id": f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": account,
        "time": record["eventTime"][:19] + "Z",
        "region": record["awsRegion"],
        "resources": [record["s3"]["bucket"]["arn"]],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": detail_obj,
            "request-id": request_id,
            "requester": account,
            "source-ip-address": SOURCE_IP,
            "reason": reason,
        },
    }


def test_event(bucket: str, event_time: str) -> dict[str, Any]:
    request_id, id2 = request_ids(bucket, "", event_time)
    return {
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": event_time,
        "Bucket": bucket,
        "RequestId": request_id,
        "HostId": id2,
    }


def notification_suffixes() -> list[str]:
    """The suffix filters of the template's Lambda notifications (empty if unreadable)."""
    try:
        import stack_template as st

        template = st.load_template()
    except Exception:  # noqa: BLE001 - a warning helper only
        return []
    out = []
    resolver = st.Resolver(template)
    for res in template["Resources"].values():
        if res.get("Type") != "AWS::S3::Bucket":
            continue
        config = (res.get("Properties") or {}).get("NotificationConfiguration") or {}
        for lc in config.get("LambdaConfigurations") or []:
            try:  # the rules may be an !If on ReportPrefix
                rules = resolver.resolve(((lc.get("Filter") or {}).get("S3Key") or {}).get("Rules") or [])
            except st.TemplateError:
                continue
            for rule in rules:
                if str(rule.get("Name")).lower() == "suffix" and isinstance(rule.get("Value"), str):
                    out.append(rule["Value"])
    return out


def head(bucket: str, key: str, region: str, endpoint: str | None) -> dict[str, Any]:
    from botocore.exceptions import BotoCoreError, ClientError

    from create_stack import clients, emulator_endpoint
    import stack_template as st

    try:
        s3 = clients(emulator_endpoint(endpoint), region)["s3"]
        return s3.head_object(Bucket=bucket, Key=key)
    except st.TemplateError as e:
        fail(str(e), 2)
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code")
        if code in ("404", "NoSuchKey", "NotFound"):
            fail(f"s3://{bucket}/{key} does not exist in the emulator")
        fail(f"HEAD s3://{bucket}/{key}: {code}: {e}")
    except BotoCoreError as e:
        fail(f"cannot talk to the emulator: {e}")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Print the AWS S3 event notification for an object (for cargo lambda invoke --data-file).",
    )
    p.add_argument("bucket")
    p.add_argument("key", nargs="?", help="the object's key, not encoded")
    p.add_argument("--test-event", action="store_true", help="print the s3:TestEvent message for BUCKET")
    p.add_argument("--from-file", metavar="PATH", help="no emulator: size and ETag (MD5) of a local file")
    p.add_argument("--version-id", help="versionId to put in the event (default: the HEAD's)")
    p.add_argument("--event-name", default="ObjectCreated:Put", help="default: %(default)s")
    p.add_argument("--event-time", help="RFC 3339 UTC with millis and Z (default: now)")
    p.add_argument("--sequencer", help="hex (default: nanoseconds of --event-time, else time.time_ns())")
    p.add_argument("--configuration-id", default="billwatch-report-ingest", help="default: %(default)s")
    p.add_argument("--region", help="default: $AWS_REGION, $AWS_DEFAULT_REGION or us-east-1")
    p.add_argument("--endpoint-url", help="emulator endpoint (default: $AWS_ENDPOINT_URL)")
    p.add_argument(
        "--eventbridge",
        action="store_true",
        help="print the Amazon EventBridge 'Object Created' event instead (an existing bucket)",
    )
    p.add_argument("--account-id", default="123456789012", help="EventBridge's account (default: %(default)s)")
    args = p.parse_args(argv)

    region = args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    event_time = args.event_time or now_event_time()
    try:
        parsed = datetime.fromisoformat(event_time.replace("Z", "+00:00"))
    except ValueError:
        fail(f"--event-time {event_time!r} is not RFC 3339", 2)
    if not event_time.endswith("Z") or parsed.utcoffset() != timezone.utc.utcoffset(None):
        fail(f"--event-time {event_time!r} must be UTC with a trailing 'Z', as S3 writes it", 2)

    if args.test_event:
        if args.key:
            fail("--test-event takes only BUCKET", 2)
        event = test_event(args.bucket, event_time)
    else:
        if not args.key:
            fail("KEY is required (or use --test-event)", 2)
        if args.sequencer:
            sequencer = args.sequencer
        elif args.event_time:  # same scale as live events: nanoseconds of the event time
            sequencer = new_sequencer(int(parsed.timestamp() * 1000) * 1_000_000)
        else:
            sequencer = new_sequencer()
        if not all(c in "0123456789ABCDEFabcdef" for c in sequencer):
            fail(f"--sequencer {sequencer!r} is not hex", 2)
        if args.from_file:
            try:
                data = Path(args.from_file).read_bytes()
            except OSError as e:
                fail(f"cannot read {args.from_file}: {e.strerror}", 2)
            size, etag, version_id = len(data), hashlib.md5(data).hexdigest(), args.version_id  # noqa: S324
        else:
            h = head(args.bucket, args.key, region, args.endpoint_url)
            size, etag = h["ContentLength"], h["ETag"]
            version_id = args.version_id or h.get("VersionId")
        suffixes = notification_suffixes()
        if suffixes and not any(args.key.endswith(s) for s in suffixes):
            print(
                f"{PROG}: warning: {args.key!r} ends in none of the notification suffixes "
                f"{suffixes}: S3 would not invoke the function for it",
                file=sys.stderr,
            )
        event = object_created_event(
            bucket=args.bucket,
            key=args.key,
            size=size,
            etag=etag,
            version_id=version_id,
            region=region,
            event_time=event_time,
            sequencer=sequencer.upper(),
            event_name=args.event_name,
            configuration_id=args.configuration_id,
            partition="aws-cn" if region.startswith("cn-") else "aws",
        )
        if args.eventbridge:
            event = as_eventbridge(event, args.account_id)
    json.dump(event, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
