"""Records the AWS calls billwatch's own principals make, for the permissions check.

The emulator authorizes nothing, so a call the deployed role would be refused passes every test.
To prove the template's roles instead, the tests give each billwatch principal (the ingest
function, the health-check function, the CLI) access keys of its own (infra/iam/principals.json)
and moto_locked.py installs `install(path)`: every request signed with one of those keys is
appended to `path` as one JSON line, before the emulator answers it. infra/iam/check_calls.py
later turns each line into the IAM actions and resources AWS would authorize, and evaluates
them against the role the template gives that principal.

A line: {"akid", "service", "method", "path", "query", "target", "content_type", "body",
"status"}. The body is kept for the JSON and query protocols (DynamoDB, SQS, SNS, ...), where
it names the resource; S3 names it in the path, and its bodies (report objects) are not kept.
Requests signed with any other key (the tests' own set-up) are not recorded.
"""

from __future__ import annotations

import io
import json
import re
import threading
from typing import Any, Callable

PRINCIPAL_PREFIX = "BWPRINCIPAL"  # every key in infra/iam/principals.json starts with it
_MAX_BODY = 4 * 1024 * 1024  # a DynamoDB transaction is at most 4 MB
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/[^/]+/([^/]+)/")
_lock = threading.Lock()


def _signer(environ: dict[str, Any]) -> tuple[str, str] | None:
    """(access key id, service) of a SigV4-signed request, from its header or its query."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    m = _CREDENTIAL.search(auth)
    if m is None:
        query = environ.get("QUERY_STRING", "")
        m = re.search(r"X-Amz-Credential=([^%&/]+)(?:%2F|/)[^%&/]+(?:%2F|/)[^%&/]+(?:%2F|/)([^%&/]+)", query)
    return (m.group(1), m.group(2)) if m else None


def install(dispatcher_class: type, path: str) -> None:
    """Wraps the emulator's WSGI entry point so that principals' requests are logged to `path`."""
    original: Callable[..., Any] = dispatcher_class.__call__

    def recording_call(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        signer = _signer(environ)
        if signer is None or not signer[0].startswith(PRINCIPAL_PREFIX):
            return original(self, environ, start_response)
        akid, service = signer
        body: str | None = None
        if service != "s3":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(raw)
            if len(raw) <= _MAX_BODY:
                body = raw.decode("utf-8", errors="replace")
        entry = {
            "akid": akid,
            "service": service,
            "method": environ.get("REQUEST_METHOD", ""),
            "path": environ.get("PATH_INFO", ""),
            "query": environ.get("QUERY_STRING", ""),
            "target": environ.get("HTTP_X_AMZ_TARGET", ""),
            "content_type": environ.get("CONTENT_TYPE", ""),
            "body": body,
            "status": None,
        }

        def recording_start_response(status: str, headers: Any, *rest: Any) -> Any:
            entry["status"] = int(status.split(" ", 1)[0])
            return start_response(status, headers, *rest)

        try:
            return original(self, environ, recording_start_response)
        finally:
            line = json.dumps(entry, separators=(",", ":")) + "\n"
            with _lock, open(path, "a", encoding="utf-8") as f:
                f.write(line)

    dispatcher_class.__call__ = recording_call
