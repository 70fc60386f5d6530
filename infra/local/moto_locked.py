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

    python moto_locked.py [moto_server arguments]
"""

import functools
import sys
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.server import main

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

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
