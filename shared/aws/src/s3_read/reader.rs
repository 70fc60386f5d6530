//! One object's bytes, from async tasks to the synchronous engine: a task on the runtime
//! produces the object's chunks (a plain GET's body, or its byte ranges fetched concurrently)
//! into a bounded channel; the engine reads them, on its blocking thread, through
//! [`ChannelReader`]. A failed read reaches the engine as an `io::Error` that carries the
//! [`ReadFailure`] (and so the SDK's class) whole.
//!
//! Memory is bounded whatever the object's size: a body's chunks wait in a channel of
//! [`BODY_CHUNKS`]; a ranged read holds at most `in_flight` ranges (downloading, waiting in the
//! channel, or being read), each holding one permit of a semaphore of that many.

use super::fetch::Target;
use super::plan::RangedReads;
use super::ReadFailure;
use crate::error::{CallError, ErrorClass};
use aws_sdk_s3::primitives::ByteStream;
use futures_util::{stream, Future, StreamExt};
use std::io::{self, Read};
use std::sync::Arc;
use std::time::SystemTime;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

/// Chunks of a plain GET's body that may wait for the engine (the SDK's chunks are a few KiB to
/// a few dozen KiB each).
pub(crate) const BODY_CHUNKS: usize = 16;

/// Bytes of the object, in order, and what keeps their memory counted.
pub(crate) struct Chunk {
    data: Box<dyn AsRef<[u8]> + Send>,
    /// A range's permit: released when the engine has read the range.
    _held: Option<OwnedSemaphorePermit>,
}

impl Chunk {
    pub(crate) fn new(data: impl AsRef<[u8]> + Send + 'static) -> Self {
        Self {
            data: Box::new(data),
            _held: None,
        }
    }

    fn bytes(&self) -> &[u8] {
        (*self.data).as_ref()
    }
}

/// What the producing task sends: a chunk, the end of the object (`None`), or why it failed.
pub(crate) type Sent = Result<Option<Chunk>, ReadFailure>;

/// A channel of `capacity` chunks of `bucket/key`: the producer's end (which gives up at
/// `stop`, if any) and the engine's.
pub(crate) fn channel(
    capacity: usize,
    bucket: &str,
    key: &str,
    stop: Option<SystemTime>,
) -> (Feed, ChannelReader) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let feed = Feed {
        tx,
        bucket: bucket.to_string(),
        key: key.to_string(),
        stop,
    };
    let reader = ChannelReader {
        rx,
        current: None,
        at: 0,
        end: Ended::No,
        object: (feed.bucket.clone(), feed.key.clone()),
    };
    (feed, reader)
}

enum Ended {
    No,
    Done,
    Failed(ReadFailure),
}

/// The engine's end: a synchronous `Read` to be read from a blocking thread (it waits for the
/// next chunk with `blocking_recv`).
pub(crate) struct ChannelReader {
    rx: mpsc::Receiver<Sent>,
    current: Option<Chunk>,
    at: usize,
    end: Ended,
    /// The object's bucket and key.
    object: (String, String),
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if let Some(chunk) = &self.current {
                let bytes = chunk.bytes();
                if self.at < bytes.len() {
                    let n = buf.len().min(bytes.len() - self.at);
                    buf[..n].copy_from_slice(&bytes[self.at..self.at + n]);
                    self.at += n;
                    return Ok(n);
                }
            }
            // The chunk is read: its memory (and a range's permit) goes before the next comes.
            self.current = None;
            self.at = 0;
            match &self.end {
                Ended::No => {}
                Ended::Done => return Ok(0),
                Ended::Failed(failure) => return Err(failure.clone().into_io(false)),
            }
            match self.rx.blocking_recv() {
                Some(Ok(Some(chunk))) => self.current = Some(chunk),
                Some(Ok(None)) => self.end = Ended::Done,
                Some(Err(failure)) => self.end = Ended::Failed(failure),
                // The producer is gone without saying the object ended: never a short read.
                None => {
                    self.end = Ended::Failed(ReadFailure {
                        bucket: self.object.0.clone(),
                        key: self.object.1.clone(),
                        error: CallError {
                            code: None,
                            status: None,
                            message: "the read stopped before the end of the object".into(),
                            class: ErrorClass::Transient,
                        },
                    })
                }
            }
        }
    }
}

/// Where one object's producer sends, and for which object.
pub(crate) struct Feed {
    tx: mpsc::Sender<Sent>,
    bucket: String,
    key: String,
    /// The read gives up at this time (the time budget of the read), if any.
    stop: Option<SystemTime>,
}

impl Feed {
    fn failure(&self, error: CallError) -> ReadFailure {
        ReadFailure {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            error,
        }
    }

    /// Runs `produce` (which sends the chunks and the end), cut short at the stop time: the
    /// engine then reads [`out_of_time`].
    pub(crate) async fn run<F>(self, produce: impl FnOnce(Feed) -> F)
    where
        F: Future<Output = ()>,
    {
        let Some(stop) = self.stop else {
            return produce(self).await;
        };
        let tx = self.tx.clone();
        let failure = self.failure(out_of_time());
        if tokio::time::timeout(until(stop), produce(self))
            .await
            .is_err()
        {
            let _ = tx.send(Err(failure)).await;
        }
    }

    async fn send(&self, sent: Sent) -> bool {
        self.tx.send(sent).await.is_ok()
    }
}

/// The time from now to `stop` (zero if it is past).
pub(crate) fn until(stop: SystemTime) -> std::time::Duration {
    stop.duration_since(SystemTime::now()).unwrap_or_default()
}

/// The read was stopped at the end of its time budget. Permanent: a retry has no more time.
pub(crate) fn out_of_time() -> CallError {
    CallError {
        code: Some("ReadTimeBudget".into()),
        status: None,
        message: "the read was stopped at the end of the time it was given".into(),
        class: ErrorClass::Permanent,
    }
}

/// Sends a body's chunks as they arrive.
pub(crate) async fn pump_body(mut body: ByteStream, feed: Feed) {
    let mut read = 0usize;
    loop {
        let sent = match body.try_next().await {
            Ok(Some(bytes)) => {
                read += bytes.len();
                Ok(Some(Chunk::new(bytes)))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(feed.failure(CallError {
                code: None,
                status: None,
                message: format!("the connection failed after {read} bytes: {e}"),
                class: ErrorClass::Transient,
            })),
        };
        let last = !matches!(sent, Ok(Some(_)));
        if !feed.send(sent).await || last {
            return;
        }
    }
}

/// Sends an object of `len` bytes range after range, in order: the first from `first` (a body
/// open at byte 0), the others with ranged GETs, up to `reads.in_flight` held at once.
pub(crate) async fn pump_ranges(
    target: Target,
    reads: RangedReads,
    len: u64,
    first: ByteStream,
    feed: Feed,
) {
    let target = Arc::new(target);
    let in_flight = reads.in_flight.max(1);
    let held = Arc::new(Semaphore::new(in_flight));
    let mut first = Some(first);
    let ranges = stream::iter(reads.ranges(len)).map(|range| {
        let (target, held, body) = (target.clone(), held.clone(), first.take());
        async move {
            let permit = held
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            let bytes = target.range(range, body).await?;
            Ok::<_, CallError>(Chunk {
                data: Box::new(bytes),
                _held: Some(permit),
            })
        }
    });
    let mut ranges = std::pin::pin!(ranges.buffered(in_flight));
    while let Some(range) = ranges.next().await {
        let failed = range.is_err();
        if !feed
            .send(range.map(Some).map_err(|e| feed.failure(e)))
            .await
            || failed
        {
            return;
        }
    }
    feed.send(Ok(None)).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn failure(class: ErrorClass) -> ReadFailure {
        ReadFailure {
            bucket: "b".into(),
            key: "k".into(),
            error: CallError {
                code: Some("SlowDown".into()),
                status: Some(503),
                message: "reduce your request rate".into(),
                class,
            },
        }
    }

    /// `read` on a blocking thread, as the engine runs.
    async fn engine<T: Send + 'static>(read: impl FnOnce() -> T + Send + 'static) -> T {
        tokio::task::spawn_blocking(read).await.unwrap()
    }

    /// `n` chunks of `size` bytes (chunk i filled with i), then the end or a failure.
    async fn produce(feed: Feed, n: usize, size: usize, end: Sent) {
        for i in 0..n {
            if !feed.send(Ok(Some(Chunk::new(vec![i as u8; size])))).await {
                return;
            }
        }
        feed.send(end).await;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn chunks_arrive_whole_and_in_order() {
        let (tx, mut reader) = channel(2, "b", "k", None);
        tokio::spawn(produce(tx, 50, 1000, Ok(None)));
        let mut out = Vec::new();
        let out = engine(move || reader.read_to_end(&mut out).map(|_| out))
            .await
            .unwrap();
        assert_eq!(out.len(), 50 * 1000);
        for (i, chunk) in out.chunks(1000).enumerate() {
            assert!(chunk.iter().all(|&b| b == i as u8), "chunk {i}");
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_failure_reaches_the_engine_with_its_class() {
        for class in [ErrorClass::Transient, ErrorClass::Permanent] {
            let (tx, mut reader) = channel(2, "b", "k", None);
            tokio::spawn(produce(tx, 3, 10, Err(failure(class))));
            let err = engine(move || {
                let mut out = Vec::new();
                let err = reader.read_to_end(&mut out).unwrap_err();
                assert_eq!(out.len(), 30, "the bytes before the failure are read");
                // Read again: the same failure, not an end.
                let again = reader.read(&mut [0; 4]).unwrap_err();
                assert_eq!(
                    ReadFailure::of_io(&again).map(|f| f.error.class),
                    Some(class)
                );
                err
            })
            .await;
            let found = ReadFailure::of_io(&err).expect("the failure travels in the error");
            assert_eq!(found, &failure(class));
            assert!(err.to_string().contains("SlowDown"), "{err}");
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_producer_gone_without_an_end_is_a_failure_not_a_short_read() {
        let (feed, mut reader) = channel(2, "b", "k", None);
        tokio::spawn(async move {
            feed.send(Ok(Some(Chunk::new(vec![1u8; 5])))).await;
            // dropped here: no end
        });
        let err = engine(move || reader.read_to_end(&mut Vec::new()))
            .await
            .unwrap_err();
        let found = ReadFailure::of_io(&err).unwrap();
        assert_eq!(found.error.class, ErrorClass::Transient);
        assert_eq!((found.bucket.as_str(), found.key.as_str()), ("b", "k"));
    }

    /// Counts the chunks alive (made, not yet dropped by the reader).
    struct Counted(Vec<u8>, Arc<AtomicUsize>);

    impl AsRef<[u8]> for Counted {
        fn as_ref(&self) -> &[u8] {
            &self.0
        }
    }

    impl Drop for Counted {
        fn drop(&mut self) {
            self.1.fetch_sub(1, Ordering::SeqCst);
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn memory_does_not_grow_with_the_object() {
        const CAPACITY: usize = 4;
        for chunks in [10usize, 1_000, 20_000] {
            let alive = Arc::new(AtomicUsize::new(0));
            let most = Arc::new(AtomicUsize::new(0));
            let (feed, mut reader) = channel(CAPACITY, "b", "k", None);
            let (a, m) = (alive.clone(), most.clone());
            tokio::spawn(async move {
                for i in 0..chunks {
                    let now = a.fetch_add(1, Ordering::SeqCst) + 1;
                    m.fetch_max(now, Ordering::SeqCst);
                    let chunk = Chunk::new(Counted(vec![i as u8; 64], a.clone()));
                    if !feed.send(Ok(Some(chunk))).await {
                        return;
                    }
                }
                feed.send(Ok(None)).await;
            });
            let n = engine(move || {
                // Read slowly, a few bytes at a time, so the producer runs ahead if it can.
                let mut n = 0;
                let mut buf = [0u8; 7];
                loop {
                    match reader.read(&mut buf).unwrap() {
                        0 => return n,
                        k => n += k,
                    }
                }
            })
            .await;
            assert_eq!(n, chunks * 64);
            // In the channel, the one being read, and the one the producer is sending.
            let most = most.load(Ordering::SeqCst);
            assert!(
                most <= CAPACITY + 2,
                "{chunks} chunks: {most} alive at once"
            );
            assert_eq!(alive.load(Ordering::SeqCst), 0);
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_stopped_read_says_so() {
        let stop = SystemTime::now() + std::time::Duration::from_millis(50);
        let (feed, mut reader) = channel(2, "b", "k", Some(stop));
        // A producer that sends one chunk and then never ends.
        tokio::spawn(feed.run(|feed| async move {
            feed.send(Ok(Some(Chunk::new(vec![1u8; 3])))).await;
            std::future::pending::<()>().await
        }));
        let err = engine(move || reader.read_to_end(&mut Vec::new()))
            .await
            .unwrap_err();
        let found = ReadFailure::of_io(&err).unwrap();
        assert_eq!(found.error, out_of_time());
        assert_eq!(found.key, "k");
    }
}
