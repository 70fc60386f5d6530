//! A stand-in for S3's network behaviour, for measurements only: a local HTTP server that
//! serves one object (GET, whole or `Range: bytes=a-b`, `If-Match`) to the S3 client, each
//! response paced as S3 documents a connection: a first-byte latency, then at most so many bytes
//! a second. The emulator (moto) copies the whole object for every ranged GET, so it cannot
//! show what ranges buy; this can.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How one connection behaves.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    pub first_byte: Duration,
    pub bytes_per_second: u64,
}

/// Serves `object` (ETag `"paced"`) on 127.0.0.1 until the process ends; returns its address.
pub fn serve(object: Vec<u8>, pace: Pace) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the paced server");
    let addr = listener.local_addr().unwrap();
    let object = Arc::new(object);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let object = object.clone();
            std::thread::spawn(move || {
                let _ = connection(stream, &object, pace);
            });
        }
    });
    addr
}

/// Requests on one kept-alive connection, one after the other.
fn connection(stream: TcpStream, object: &[u8], pace: Pace) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            if line == "\r\n" {
                break;
            }
            head.push(line.trim_end().to_string());
        }
        let header = |name: &str| {
            head.iter().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_string())
            })
        };
        if header("if-match").is_some_and(|m| m != "\"paced\"") {
            write!(
                out,
                "HTTP/1.1 412 Precondition Failed\r\nContent-Length: 0\r\n\r\n"
            )?;
            continue;
        }
        let len = object.len() as u64;
        let (status, first, last) = match header("range").and_then(|r| parse_range(&r)) {
            Some((a, b)) => ("206 Partial Content", a, b.min(len - 1)),
            None => ("200 OK", 0, len.saturating_sub(1)),
        };
        let body = if len == 0 {
            &object[..0]
        } else {
            &object[first as usize..=last as usize]
        };
        std::thread::sleep(pace.first_byte);
        write!(
            out,
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nETag: \"paced\"\r\nContent-Range: bytes {first}-{last}/{len}\r\nContent-Type: application/octet-stream\r\n\r\n",
            body.len()
        )?;
        let sending = Instant::now();
        for (i, chunk) in body.chunks(64 << 10).enumerate() {
            out.write_all(chunk)?;
            let sent = ((i + 1) * (64 << 10)).min(body.len()) as f64;
            let due = Duration::from_secs_f64(sent / pace.bytes_per_second as f64);
            if let Some(wait) = due.checked_sub(sending.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        out.flush()?;
    }
}

fn parse_range(value: &str) -> Option<(u64, u64)> {
    let (a, b) = value.strip_prefix("bytes=")?.split_once('-')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}
