//! A large object as one synchronous `Read`: its ranges fetched concurrently on the runtime,
//! at most `in_flight` held at once, handed to the reader strictly in order.

use super::fetch::Target;
use super::plan::{RangedReads, Ranges};
use super::Failures;
use crate::error::CallError;
use aws_sdk_s3::primitives::ByteStream;
use std::collections::VecDeque;
use std::io::{self, Read};
use std::sync::Arc;
use tokio::runtime::Handle;
use tokio::task::JoinHandle;

type Fetch = JoinHandle<Result<Vec<u8>, CallError>>;

/// Read it from a blocking thread (it waits on the runtime for the next range).
pub(crate) struct RangedReader {
    target: Arc<Target>,
    runtime: Handle,
    /// Ranges not asked for yet.
    ranges: Ranges,
    in_flight: usize,
    /// Ranges asked for, in the object's order.
    pending: VecDeque<Fetch>,
    /// The range being read, and how far.
    current: Vec<u8>,
    at: usize,
    failures: Failures,
    failed: Option<CallError>,
}

impl RangedReader {
    /// Starts reading an object of `len` bytes (> 0): the first range from `first` (a body open
    /// at byte 0), the next ones with ranged GETs, up to `reads.in_flight` at once.
    pub(crate) fn start(
        target: Target,
        runtime: Handle,
        reads: RangedReads,
        len: u64,
        first: ByteStream,
        failures: Failures,
    ) -> Self {
        let target = Arc::new(target);
        let mut ranges = reads.ranges(len);
        let mut pending = VecDeque::with_capacity(reads.in_flight);
        if let Some(range) = ranges.next() {
            let t = target.clone();
            pending.push_back(runtime.spawn(async move { t.range(range, Some(first)).await }));
        }
        let mut reader = Self {
            target,
            runtime,
            ranges,
            in_flight: reads.in_flight.max(1),
            pending,
            current: Vec::new(),
            at: 0,
            failures,
            failed: None,
        };
        reader.ask();
        reader
    }

    /// Asks for further ranges while fewer than `in_flight` are held (the one being read
    /// counts).
    fn ask(&mut self) {
        let held = self.pending.len() + usize::from(self.at < self.current.len());
        for _ in held..self.in_flight {
            let Some(range) = self.ranges.next() else {
                return;
            };
            let t = self.target.clone();
            self.pending.push_back(
                self.runtime
                    .spawn(async move { t.range(range, None).await }),
            );
        }
    }

    fn fail(&mut self, error: CallError) -> io::Error {
        for fetch in self.pending.drain(..) {
            fetch.abort();
        }
        let mut slot = self.failures.lock().expect("not poisoned");
        if slot.is_none() {
            *slot = Some(super::ReadFailure {
                bucket: self.target.bucket.clone(),
                key: self.target.key.clone(),
                error: error.clone(),
            });
        }
        self.failed = Some(error.clone());
        io::Error::other(error.to_string())
    }
}

impl Read for RangedReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(error) = &self.failed {
            return Err(io::Error::other(error.to_string()));
        }
        if buf.is_empty() {
            return Ok(0);
        }
        while self.at >= self.current.len() {
            // The range read is done: its buffer is freed before the next one is asked for.
            self.current = Vec::new();
            self.at = 0;
            self.ask();
            let Some(next) = self.pending.pop_front() else {
                return Ok(0);
            };
            match self.runtime.block_on(next) {
                Ok(Ok(bytes)) => self.current = bytes,
                Ok(Err(error)) => return Err(self.fail(error)),
                Err(join) => {
                    let error = CallError {
                        code: None,
                        status: None,
                        message: format!("the range task failed: {join}"),
                        class: crate::error::ErrorClass::Transient,
                    };
                    return Err(self.fail(error));
                }
            }
        }
        let n = buf.len().min(self.current.len() - self.at);
        buf[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

impl Drop for RangedReader {
    /// A reader dropped early (an error further up, a limit) stops its downloads.
    fn drop(&mut self) {
        for fetch in self.pending.drain(..) {
            fetch.abort();
        }
    }
}
