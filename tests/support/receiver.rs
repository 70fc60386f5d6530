//! A webhook receiver on 127.0.0.1 for the channels' tests: it records every request (path,
//! headers, body, when, and how many AWS calls the code under test had started by then) and
//! answers each path from a script — a status with headers, a slow answer, a connection reset —
//! then 200 once the script is used up.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A status, headers, a body.
    Status(u16, Vec<(String, String)>, String),
    /// 200, after this long.
    Slow(Duration),
    /// The connection reset, with no answer.
    Reset,
    /// 429 with `Retry-After` as an HTTP date this many seconds after the answer.
    TooManyUntil(u64),
}

impl Reply {
    pub fn ok() -> Reply {
        Reply::Status(200, Vec::new(), "ok".into())
    }

    pub fn status(code: u16, body: &str) -> Reply {
        Reply::Status(code, Vec::new(), body.into())
    }

    /// 429 with `Retry-After: seconds`.
    pub fn too_many(seconds: u64) -> Reply {
        Reply::Status(
            429,
            vec![("Retry-After".into(), seconds.to_string())],
            "rate limited".into(),
        )
    }
}

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Got {
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub at: Instant,
    /// What the probe said when it arrived (see [`Receiver::probe`]).
    pub mark: usize,
    /// The status it was answered with (0: reset or no answer).
    pub status: u16,
}

impl Got {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

type Probe = Arc<dyn Fn() -> usize + Send + Sync>;

#[derive(Default)]
struct State {
    scripts: HashMap<String, VecDeque<Reply>>,
    /// Paths answered at random (seeded): (generator state, failures per hundred requests).
    flaky: HashMap<String, (u64, u64)>,
    got: Vec<Got>,
    probe: Option<Probe>,
}

/// The receiver; dropped with the test's runtime.
#[derive(Clone)]
pub struct Receiver {
    pub base: String,
    state: Arc<Mutex<State>>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, state).await;
                });
            }
        });
        Receiver { base, state }
    }

    /// The URL of `path` (`/slack`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Answers the next requests to `path` with `replies`, in order (then 200).
    pub fn script(&self, path: &str, replies: Vec<Reply>) {
        self.state
            .lock()
            .unwrap()
            .scripts
            .insert(path.into(), replies.into());
    }

    /// Every request to `path` from now on is answered by `reply` (`n` times).
    pub fn fail(&self, path: &str, reply: Reply, n: usize) {
        self.script(path, vec![reply; n]);
    }

    /// Past its script, `path` fails `percent` of the requests at random (seeded): a 500, a 429
    /// with `Retry-After: 0`, or a reset, in turn.
    pub fn flaky(&self, path: &str, seed: u64, percent: u64) {
        self.state
            .lock()
            .unwrap()
            .flaky
            .insert(path.into(), (seed | 1, percent));
    }

    /// Called at each request; its value is kept as the request's `mark`.
    pub fn probe(&self, f: impl Fn() -> usize + Send + Sync + 'static) {
        self.state.lock().unwrap().probe = Some(Arc::new(f));
    }

    /// Every request so far.
    pub fn got(&self) -> Vec<Got> {
        self.state.lock().unwrap().got.clone()
    }

    /// The requests to `path` so far.
    pub fn to(&self, path: &str) -> Vec<Got> {
        self.got().into_iter().filter(|g| g.path == path).collect()
    }

    /// The requests to `path` answered 2xx.
    pub fn delivered(&self, path: &str) -> Vec<Got> {
        self.to(path)
            .into_iter()
            .filter(|g| (200..300).contains(&g.status))
            .collect()
    }
}

async fn serve(mut stream: TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    // One request per connection: the head, then Content-Length bytes of body.
    let head_end = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let path = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("")
        .to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[head_end..(head_end + length).min(buf.len())].to_vec();
    let (reply, probe) = {
        let mut s = state.lock().unwrap();
        let scripted = s.scripts.get_mut(&path).and_then(VecDeque::pop_front);
        let reply = scripted.unwrap_or_else(|| match s.flaky.get_mut(&path) {
            Some((x, percent)) => {
                // xorshift64: the same seed, the same answers.
                *x ^= *x << 13;
                *x ^= *x >> 7;
                *x ^= *x << 17;
                if *x % 100 < *percent {
                    match (*x >> 8) % 3 {
                        0 => Reply::status(500, "flaky"),
                        1 => Reply::too_many(0),
                        _ => Reply::Reset,
                    }
                } else {
                    Reply::ok()
                }
            }
            None => Reply::ok(),
        });
        (reply, s.probe.clone())
    };
    let status = match &reply {
        Reply::Status(code, ..) => *code,
        Reply::TooManyUntil(_) => 429,
        // Slow is slower than the client waits in these tests: no answer reaches it.
        Reply::Slow(_) => 0,
        Reply::Reset => 0,
    };
    state.lock().unwrap().got.push(Got {
        path,
        headers,
        body,
        at: Instant::now(),
        mark: probe.map_or(0, |p| p()),
        status,
    });
    let (code, extra, text) = match reply {
        Reply::Reset => {
            // A zero linger makes the close a reset (RST); with zero it never blocks.
            #[allow(deprecated)]
            stream.set_linger(Some(Duration::ZERO))?;
            return Ok(());
        }
        Reply::Slow(wait) => {
            tokio::time::sleep(wait).await;
            (200, Vec::new(), "ok".to_string())
        }
        Reply::Status(code, extra, text) => (code, extra, text),
        Reply::TooManyUntil(seconds) => {
            let at = chrono::Utc::now() + chrono::Duration::seconds(seconds as i64);
            let date = at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
            (429, vec![("Retry-After".into(), date)], "slow down".into())
        }
    };
    let mut response = format!(
        "HTTP/1.1 {code} X\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n",
        text.len()
    );
    for (n, v) in extra {
        response.push_str(&format!("{n}: {v}\r\n"));
    }
    response.push_str("\r\n");
    response.push_str(&text);
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}
