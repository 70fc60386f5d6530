//! Decoding on its own thread: a gzip object is inflated one block ahead of the thread that cuts
//! it into chunks, so that inflating (one stream, one core) and cutting overlap. Memory is
//! bounded: [`AHEAD`] blocks wait at most, buffers are handed back and reused.

use std::io::{self, Read};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};

/// Bytes per block handed over.
const BLOCK: usize = 256 * 1024;
/// Blocks decoded and waiting at most.
const AHEAD: usize = 2;

/// The reading end: yields the decoded stream in order, then its error or its end.
pub(super) struct ReadAhead {
    blocks: Receiver<io::Result<Vec<u8>>>,
    spare: Sender<Vec<u8>>,
    current: Vec<u8>,
    at: usize,
    done: bool,
}

/// Runs `f` on `inner`'s bytes, decoded on a thread of their own. The thread stops when `inner`
/// ends or fails, or as soon as `f` returns.
pub(super) fn with_read_ahead<R: Read + Send, T>(
    inner: R,
    f: impl FnOnce(&mut ReadAhead) -> T,
) -> T {
    std::thread::scope(|scope| {
        let (tx, blocks) = sync_channel(AHEAD);
        let (spare, spare_rx) = channel();
        scope.spawn(move || produce(inner, &tx, &spare_rx));
        let mut reader = ReadAhead {
            blocks,
            spare,
            current: Vec::new(),
            at: 0,
            done: false,
        };
        // Dropping the reader when `f` returns closes the channel: the thread stops at its
        // next block.
        f(&mut reader)
    })
}

fn produce(mut inner: impl Read, tx: &SyncSender<io::Result<Vec<u8>>>, spare: &Receiver<Vec<u8>>) {
    loop {
        let mut buf = spare.try_recv().unwrap_or_default();
        buf.resize(BLOCK, 0);
        let mut filled = 0;
        let outcome = loop {
            match inner.read(&mut buf[filled..]) {
                Ok(0) => break Ok(true),
                Ok(n) => {
                    filled += n;
                    if filled == BLOCK {
                        break Ok(false);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        buf.truncate(filled);
        if filled > 0 && tx.send(Ok(buf)).is_err() {
            return;
        }
        match outcome {
            Ok(false) => {}
            Ok(true) => return,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        }
    }
}

impl Read for ReadAhead {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.at >= self.current.len() {
            if self.done {
                return Ok(0);
            }
            match self.blocks.recv() {
                Ok(Ok(block)) => {
                    let used = std::mem::replace(&mut self.current, block);
                    // The producer may have stopped; the buffer is then dropped.
                    let _ = self.spare.send(used);
                    self.at = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => self.done = true,
            }
        }
        let n = out.len().min(self.current.len() - self.at);
        out[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Yields its bytes in odd-sized reads, then fails if told to.
    struct Source {
        bytes: Vec<u8>,
        at: usize,
        fail_at_end: bool,
    }

    impl Read for Source {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.at == self.bytes.len() {
                return match self.fail_at_end {
                    true => Err(io::Error::other("broken stream")),
                    false => Ok(0),
                };
            }
            let n = buf.len().min(777).min(self.bytes.len() - self.at);
            buf[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn source(len: usize, fail_at_end: bool) -> Source {
        Source {
            bytes: (0..len).map(|i| (i * 31 % 251) as u8).collect(),
            at: 0,
            fail_at_end,
        }
    }

    #[test]
    fn the_stream_comes_through_whole_and_in_order() {
        for len in [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 5 * BLOCK + 12_345] {
            let want = source(len, false).bytes;
            let got = with_read_ahead(source(len, false), |r| {
                let mut out = Vec::new();
                r.read_to_end(&mut out).map(|_| out)
            });
            assert!(got.unwrap() == want, "{len}");
        }
    }

    #[test]
    fn an_error_comes_after_every_byte_before_it() {
        let len = 3 * BLOCK + 5;
        let (read, err) = with_read_ahead(source(len, true), |r| {
            let mut out = vec![0; len + 10];
            let mut filled = 0;
            loop {
                match r.read(&mut out[filled..]) {
                    Ok(0) => return (filled, None),
                    Ok(n) => filled += n,
                    Err(e) => return (filled, Some(e.to_string())),
                }
            }
        });
        assert_eq!(read, len);
        assert_eq!(err.as_deref(), Some("broken stream"));
    }

    #[test]
    fn stopping_early_stops_the_thread() {
        // An endless source: only the reader stopping ends the thread (else this test hangs).
        struct Endless;
        impl Read for Endless {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                buf.fill(b'x');
                Ok(buf.len())
            }
        }
        let first = with_read_ahead(Endless, |r| {
            let mut b = [0u8; 10];
            r.read_exact(&mut b).map(|_| b)
        });
        assert_eq!(first.unwrap(), [b'x'; 10]);
    }
}
