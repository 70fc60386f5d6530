#!/usr/bin/env python3
"""moto_server with DynamoDB writes made atomic with each other.

moto serves requests on threads and applies TransactWriteItems without a lock: it snapshots
the tables, checks and writes, and on a failed condition restores the snapshot. Two concurrent
transactions on one table can therefore undo each other: the one that fails its condition
restores a copy taken before the other committed, and the committed write is lost. Real
DynamoDB never does that, and billwatch's conditional pointer flip relies on it (the model test
under concurrency found it once in several hundred sequences). One lock around every write
operation of the DynamoDB backend makes each transaction, put, update and delete atomic with
respect to the others, as DynamoDB's are. Reads are not locked.

With $BILLWATCH_CALL_LOG set, it also records the calls of billwatch's principals (call_log.py).

    python moto_locked.py [moto_server arguments]
"""

import functools
import os
import sys
import threading
from pathlib import Path

from moto.dynamodb.models import DynamoDBBackend
from moto.moto_api._internal.responses import MotoAPIResponse
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.server import main

sys.dont_write_bytecode = True  # keep the work tree free of __pycache__
sys.path.insert(0, str(Path(__file__).resolve().parent))
import call_log  # noqa: E402

_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")
_lock = threading.RLock()


def _locked(method):
    @functools.wraps(method)
    def run(*args, **kwargs):
        with _lock:
            return method(*args, **kwargs)

    return run


for _name in _WRITES:
    setattr(DynamoDBBackend, _name, _locked(getattr(DynamoDBBackend, _name)))

# /moto-api/data.json (the demo reads the e-mail text SNS "sent" from it) serializes every model
# instance's attributes and skips those that are not JSON, but a property that raises anything
# else (the local function stubs' do) fails the whole dump with a 500. Skip those too.
def _model_data(self, request, full_url, headers):  # noqa: ARG001 - moto's signature
    import json

    from moto.core.model_instances import model_data

    results = {}
    for service in sorted(model_data):
        results[service] = {}
        for name in sorted(model_data[service]):
            results[service][name] = []
            for instance in model_data[service][name].instances_tracked:
                fields = {}
                for attr in dir(instance):
                    if attr.startswith("_"):
                        continue
                    try:
                        value = getattr(instance, attr)
                        json.dumps(value)
                    except Exception:  # noqa: BLE001 - any attribute that cannot be shown is left out
                        continue
                    fields[attr] = value
                results[service][name].append(fields)
    return 200, {"Content-Type": "application/javascript"}, json.dumps(results)


MotoAPIResponse.model_data = _model_data

# $BILLWATCH_CALL_LOG: record the calls billwatch's own principals make (call_log.py), for the
# permissions check (infra/iam/check_calls.py).
if os.environ.get("BILLWATCH_CALL_LOG"):
    call_log.install(DomainDispatcherApplication, os.environ["BILLWATCH_CALL_LOG"])

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
