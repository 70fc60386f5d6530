//! A fault-injection harness between billwatch and the local emulator, built from the AWS SDK's
//! own interceptors (`aws_smithy_runtime_api::client::interceptors::Intercept`): one
//! [`FaultPlan`] is shared by the S3, DynamoDB and SNS clients it builds ([`FaultPlan::clients`]),
//! so it sees every call of one "process" in order, counts them per operation, and can fail any
//! of them.
//!
//! * A **call** is one SDK operation (`PutItem`, `Publish`, …): one execution, however many
//!   attempts the SDK's retry strategy makes. Calls are numbered from 0 in the order they start
//!   ([`FaultPlan::calls`]); rules count the calls of their operation from 1.
//! * A **fault** replaces one attempt of a call ([`Fault`]). HTTP 500/503 and throttling are
//!   real HTTP responses with the service's own error body (JSON `__type` for DynamoDB, XML for
//!   S3 and SNS), served by a small local responder the interceptor points the attempt at: the
//!   request never reaches the emulator, and the SDK classifies the response as it would AWS's
//!   (throttling and 5xx are retried by the SDK). [`Fault::Reset`] is a connection the responder
//!   closes without answering (an I/O error: retried by the SDK); [`Fault::Drop`] is an error
//!   raised by the interceptor before transmit (not retried by the SDK: the call fails).
//! * A **kill** ([`Kill`]) is the process dying at one call: before it is transmitted or after
//!   the emulator has carried it out (its response is then lost). From then on every call of the
//!   client set fails before it leaves the process. The test then builds a fresh `Ingest` with
//!   clean clients and delivers again, as Lambda would.
//!
//! Random choices (throttling a fraction of calls) come from a seeded [`Rng`], so a run is
//! reproducible from its seed (as far as the calls' order is deterministic).

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextRef,
    BeforeTransmitInterceptorContextMut,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use billwatch_aws::clients::Clients;
use std::fmt;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// A small, seedable random number generator (SplitMix64): enough for choosing faults and
/// model steps reproducibly, without a dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p && p > 0.0
    }
}

/// What one faulted attempt gets instead of the emulator's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 500 with the service's internal-error body.
    Http500,
    /// HTTP 503 with the service's unavailable body.
    Http503,
    /// Throttling: DynamoDB `ThrottlingException` (400, JSON `__type`), S3 `SlowDown` (503),
    /// SNS `Throttling` (400).
    Throttling,
    /// DynamoDB `ProvisionedThroughputExceededException` (400, JSON `__type`); other services
    /// get their throttling error.
    ProvisionedThroughputExceeded,
    /// The connection is closed without a response (an I/O error for the SDK).
    Reset,
    /// An error raised by the interceptor before transmit ("dropped connection"); the SDK does
    /// not retry it, so the call fails.
    Drop,
}

impl Fault {
    fn name(self) -> &'static str {
        match self {
            Fault::Http500 => "500",
            Fault::Http503 => "503",
            Fault::Throttling => "throttling",
            Fault::ProvisionedThroughputExceeded => "provisioned-throughput",
            Fault::Reset => "reset",
            Fault::Drop => "drop",
        }
    }

    fn from_name(name: &str) -> Option<Fault> {
        [
            Fault::Http500,
            Fault::Http503,
            Fault::Throttling,
            Fault::ProvisionedThroughputExceeded,
            Fault::Reset,
            Fault::Drop,
        ]
        .into_iter()
        .find(|f| f.name() == name)
    }
}

/// Which calls a rule or a kill applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpMatch {
    /// `DynamoDB`, `S3`, `SNS` (as in the SDK's operation metadata); `None`: any service.
    pub service: Option<String>,
    /// `PutItem`, `Publish`, …; `None`: any operation.
    pub operation: Option<String>,
    /// Only calls whose serialized request body contains this text (e.g. a topic ARN, URL-encoded
    /// as SNS's query protocol sends it).
    pub body_contains: Option<String>,
}

impl OpMatch {
    pub fn any() -> Self {
        OpMatch {
            service: None,
            operation: None,
            body_contains: None,
        }
    }

    pub fn op(service: &str, operation: &str) -> Self {
        OpMatch {
            service: Some(service.into()),
            operation: Some(operation.into()),
            body_contains: None,
        }
    }

    pub fn with_body(mut self, text: &str) -> Self {
        self.body_contains = Some(text.into());
        self
    }

    fn matches(&self, call: &Call, body: Option<&[u8]>) -> bool {
        self.service.as_deref().is_none_or(|s| s == call.service)
            && self
                .operation
                .as_deref()
                .is_none_or(|o| o == call.operation)
            && self.body_contains.as_deref().is_none_or(|text| {
                body.is_some_and(|b| b.windows(text.len().max(1)).any(|w| w == text.as_bytes()))
            })
    }
}

/// When a rule fires among the calls it matches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum When {
    /// The nth matching call (from 1).
    Nth(u32),
    /// Each matching call with this probability (from the plan's seeded RNG).
    Fraction(f64),
    /// Every matching call.
    Always,
}

/// A fault for some calls: the first `attempts` attempts of each chosen call get `fault`
/// (the SDK makes 3 attempts by default: `attempts >= 3` makes the call fail for good).
#[derive(Debug)]
pub struct Rule {
    pub calls: OpMatch,
    pub when: When,
    pub fault: Fault,
    pub attempts: u32,
    seen: AtomicU32,
}

/// Where the process dies at its kill call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillPoint {
    /// Before the call leaves the process: the emulator never sees it.
    BeforeTransmit,
    /// After the emulator carried it out: its response is lost.
    AfterTransmit,
}

/// Whether a process that dies at `calls[index]` (at `point`) dies in the one window SNS
/// standard topics leave open: after SNS accepted an alert's message and before its claim is
/// marked published. That alert is then published again when the claim's lease runs out (same
/// `alert_id`): at least once, never lost. See docs/reliability.md.
pub fn in_publish_window(calls: &[Call], index: usize, point: KillPoint) -> bool {
    let op = |i: usize| calls.get(i).map(|c| c.operation.as_str());
    match point {
        KillPoint::AfterTransmit => op(index) == Some("Publish"),
        KillPoint::BeforeTransmit => {
            index > 0 && op(index) == Some("UpdateItem") && op(index - 1) == Some("Publish")
        }
    }
}

/// Which call the process dies at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KillAt {
    /// The call with this index (from 0) among all calls of the client set.
    Call(usize),
    /// The nth (from 1) call matching.
    Nth(OpMatch, u32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kill {
    pub at: KillAt,
    pub point: KillPoint,
}

/// One call as the harness saw it start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub index: usize,
    pub service: String,
    pub operation: String,
    /// This call is the nth (from 1) of its operation.
    pub nth: u32,
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#{} {}:{} (#{} of its operation)",
            self.index, self.service, self.operation, self.nth
        )
    }
}

/// How many faults of each kind the plan injected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Injected {
    pub http_500: u64,
    pub http_503: u64,
    pub throttling: u64,
    pub reset: u64,
    pub dropped: u64,
    /// 1 when the process was killed.
    pub killed: u64,
    /// Calls refused because the process was dead.
    pub refused_after_kill: u64,
}

impl Injected {
    /// Faults injected (kills count once; calls refused after a kill are not counted).
    pub fn total(&self) -> u64 {
        self.http_500 + self.http_503 + self.throttling + self.reset + self.dropped + self.killed
    }

    pub fn add(&mut self, o: &Injected) {
        self.http_500 += o.http_500;
        self.http_503 += o.http_503;
        self.throttling += o.throttling;
        self.reset += o.reset;
        self.dropped += o.dropped;
        self.killed += o.killed;
        self.refused_after_kill += o.refused_after_kill;
    }
}

#[derive(Debug, Default)]
struct Counters {
    http_500: AtomicU64,
    http_503: AtomicU64,
    throttling: AtomicU64,
    reset: AtomicU64,
    dropped: AtomicU64,
    killed: AtomicU64,
    refused: AtomicU64,
}

#[derive(Debug)]
struct Inner {
    rules: Vec<Rule>,
    kill: Option<Kill>,
    kill_seen: AtomicU32,
    rng: Mutex<Rng>,
    calls: Mutex<Vec<Call>>,
    dead: AtomicBool,
    killed_at: Mutex<Option<Call>>,
    counters: Counters,
}

/// Faults for one client set. Cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct FaultPlan(Arc<Inner>);

impl Default for FaultPlan {
    fn default() -> Self {
        Self::new(0)
    }
}

impl FaultPlan {
    /// A plan without faults (it only records the calls) whose random choices come from `seed`.
    pub fn new(seed: u64) -> Self {
        FaultPlan(Arc::new(Inner {
            rules: Vec::new(),
            kill: None,
            kill_seen: AtomicU32::new(0),
            rng: Mutex::new(Rng::new(seed)),
            calls: Mutex::new(Vec::new()),
            dead: AtomicBool::new(false),
            killed_at: Mutex::new(None),
            counters: Counters::default(),
        }))
    }

    fn inner_mut(&mut self) -> &mut Inner {
        Arc::get_mut(&mut self.0).expect("rules are added before the plan is shared")
    }

    /// Adds a rule (before [`FaultPlan::clients`] is called).
    pub fn rule(mut self, calls: OpMatch, when: When, fault: Fault, attempts: u32) -> Self {
        self.inner_mut().rules.push(Rule {
            calls,
            when,
            fault,
            attempts,
            seen: AtomicU32::new(0),
        });
        self
    }

    /// Fails the first attempt of the nth (from 1) call of `service:operation`; the SDK retries
    /// it if the fault is retryable.
    pub fn fail_nth(self, service: &str, operation: &str, nth: u32, fault: Fault) -> Self {
        self.rule(OpMatch::op(service, operation), When::Nth(nth), fault, 1)
    }

    /// Throttles the first attempt of a fraction `p` of all calls (the SDK's retry recovers).
    pub fn throttle_fraction(self, p: f64) -> Self {
        self.rule(OpMatch::any(), When::Fraction(p), Fault::Throttling, 1)
    }

    /// The process dies at `at`.
    pub fn kill(mut self, at: KillAt, point: KillPoint) -> Self {
        self.inner_mut().kill = Some(Kill { at, point });
        self
    }

    /// S3, DynamoDB, SNS, SSM and Secrets Manager clients from `sdk` (S3 path-style as billwatch builds it), all going
    /// through this plan.
    pub fn clients(&self, sdk: &aws_config::SdkConfig) -> Clients {
        let interceptor = || FaultInterceptor(self.0.clone());
        Clients {
            s3: aws_sdk_s3::Client::from_conf(
                billwatch_aws::clients::s3_config(sdk)
                    .interceptor(interceptor())
                    .build(),
            ),
            dynamodb: aws_sdk_dynamodb::Client::from_conf(
                aws_sdk_dynamodb::config::Builder::from(sdk)
                    .interceptor(interceptor())
                    .build(),
            ),
            sns: aws_sdk_sns::Client::from_conf(
                aws_sdk_sns::config::Builder::from(sdk)
                    .interceptor(interceptor())
                    .build(),
            ),
            ssm: aws_sdk_ssm::Client::from_conf(
                aws_sdk_ssm::config::Builder::from(sdk)
                    .interceptor(interceptor())
                    .build(),
            ),
            secrets: aws_sdk_secretsmanager::Client::from_conf(
                aws_sdk_secretsmanager::config::Builder::from(sdk)
                    .interceptor(interceptor())
                    .build(),
            ),
        }
    }

    /// Every call started so far, in order (calls refused after a kill are not listed).
    pub fn calls(&self) -> Vec<Call> {
        self.0.calls.lock().unwrap().clone()
    }

    pub fn killed(&self) -> bool {
        self.0.dead.load(Ordering::SeqCst)
    }

    /// The call the process died at.
    pub fn killed_at(&self) -> Option<Call> {
        self.0.killed_at.lock().unwrap().clone()
    }

    pub fn injected(&self) -> Injected {
        let c = &self.0.counters;
        Injected {
            http_500: c.http_500.load(Ordering::SeqCst),
            http_503: c.http_503.load(Ordering::SeqCst),
            throttling: c.throttling.load(Ordering::SeqCst),
            reset: c.reset.load(Ordering::SeqCst),
            dropped: c.dropped.load(Ordering::SeqCst),
            killed: c.killed.load(Ordering::SeqCst),
            refused_after_kill: c.refused.load(Ordering::SeqCst),
        }
    }
}

/// The error an interceptor raises (a dropped connection, a dead process).
#[derive(Debug)]
pub struct InjectedError(pub String);

impl fmt::Display for InjectedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "injected fault: {}", self.0)
    }
}

impl std::error::Error for InjectedError {}

fn injected(message: String) -> BoxError {
    Box::new(InjectedError(message))
}

/// What the plan decided for one call, kept in the call's config bag between its hooks.
#[derive(Debug, Clone)]
struct CallState {
    call: Call,
    fault: Option<(Fault, u32)>,
    kill: Option<KillPoint>,
    attempt: u32,
}

impl Storable for CallState {
    type Storer = StoreReplace<Self>;
}

#[derive(Debug)]
struct FaultInterceptor(Arc<Inner>);

const FAULT_HEADER: &str = "x-billwatch-fault";
const SERVICE_HEADER: &str = "x-billwatch-service";

impl Inner {
    fn die(&self, call: &Call) {
        if !self.dead.swap(true, Ordering::SeqCst) {
            self.counters.killed.fetch_add(1, Ordering::SeqCst);
            *self.killed_at.lock().unwrap() = Some(call.clone());
        }
    }

    fn refuse(&self, what: &str) -> BoxError {
        self.counters.refused.fetch_add(1, Ordering::SeqCst);
        injected(format!("the process was killed before {what}"))
    }
}

impl Intercept for FaultInterceptor {
    fn name(&self) -> &'static str {
        "billwatch-fault-injection"
    }

    // Not `read_before_execution`: client interceptors run it before the operation's config
    // (and so its `Metadata`) is in the bag. This hook runs once per execution, after it.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = match cfg.load::<Metadata>() {
            Some(m) => (m.service().to_string(), m.name().to_string()),
            None => ("?".into(), "?".into()),
        };
        if self.0.dead.load(Ordering::SeqCst) {
            return Err(self.0.refuse(&format!("{service}:{operation}")));
        }
        let call = {
            let mut calls = self.0.calls.lock().unwrap();
            let nth = calls
                .iter()
                .filter(|c| c.service == service && c.operation == operation)
                .count() as u32
                + 1;
            let call = Call {
                index: calls.len(),
                service,
                operation,
                nth,
            };
            calls.push(call.clone());
            call
        };
        cfg.interceptor_state().store_put(CallState {
            call,
            fault: None,
            kill: None,
            attempt: 0,
        });
        Ok(())
    }

    fn modify_before_retry_loop(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(mut state) = cfg.load::<CallState>().cloned() else {
            return Ok(());
        };
        let body = context.request().body().bytes();
        if let Some(kill) = &self.0.kill {
            let hit = match &kill.at {
                KillAt::Call(i) => *i == state.call.index,
                KillAt::Nth(m, n) => {
                    m.matches(&state.call, body)
                        && self.0.kill_seen.fetch_add(1, Ordering::SeqCst) + 1 == *n
                }
            };
            if hit {
                state.kill = Some(kill.point);
            }
        }
        for rule in &self.0.rules {
            if !rule.calls.matches(&state.call, body) {
                continue;
            }
            let seen = rule.seen.fetch_add(1, Ordering::SeqCst) + 1;
            let fire = match rule.when {
                When::Nth(n) => seen == n,
                When::Fraction(p) => self.0.rng.lock().unwrap().chance(p),
                When::Always => true,
            };
            if fire && state.fault.is_none() {
                state.fault = Some((rule.fault, rule.attempts));
            }
        }
        cfg.interceptor_state().store_put(state);
        Ok(())
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(mut state) = cfg.load::<CallState>().cloned() else {
            return Ok(());
        };
        state.attempt += 1;
        cfg.interceptor_state().store_put(state.clone());
        if self.0.dead.load(Ordering::SeqCst) {
            return Err(self.0.refuse(&format!("{}", state.call)));
        }
        if state.kill == Some(KillPoint::BeforeTransmit) {
            self.0.die(&state.call);
            return Err(injected(format!(
                "process killed before transmitting {}",
                state.call
            )));
        }
        let Some((fault, attempts)) = state.fault else {
            return Ok(());
        };
        if state.attempt > attempts {
            return Ok(());
        }
        let c = &self.0.counters;
        let counter = match fault {
            Fault::Http500 => &c.http_500,
            Fault::Http503 => &c.http_503,
            Fault::Throttling | Fault::ProvisionedThroughputExceeded => &c.throttling,
            Fault::Reset => &c.reset,
            Fault::Drop => &c.dropped,
        };
        counter.fetch_add(1, Ordering::SeqCst);
        if fault == Fault::Drop {
            return Err(injected(format!(
                "connection dropped before transmitting {} (attempt {})",
                state.call, state.attempt
            )));
        }
        // Send this attempt to the local responder instead of the emulator.
        let request = context.request_mut();
        let uri = request.uri().to_string();
        let path = uri
            .split_once("://")
            .map(|(_, rest)| rest.find('/').map(|i| &rest[i..]).unwrap_or("/"))
            .unwrap_or("/");
        request
            .set_uri(format!("http://{}{path}", responder()).as_str())
            .map_err(|e| injected(format!("cannot redirect {uri}: {e}")))?;
        request.headers_mut().insert(FAULT_HEADER, fault.name());
        request
            .headers_mut()
            .insert(SERVICE_HEADER, state.call.service.clone());
        Ok(())
    }

    fn read_after_transmit(
        &self,
        _context: &BeforeDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(state) = cfg.load::<CallState>() else {
            return Ok(());
        };
        if state.kill == Some(KillPoint::AfterTransmit) {
            let call = state.call.clone();
            self.0.die(&call);
            return Err(injected(format!(
                "process killed after the emulator carried out {call}"
            )));
        }
        Ok(())
    }
}

/// The local responder faulted attempts are sent to: it reads the request and answers with the
/// fault its header names (or closes the connection), in the service's protocol.
fn responder() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fault responder");
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let _ = answer(stream);
                });
            }
        });
        addr
    })
}

fn answer(mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let header_end = loop {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_string();
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    };
    let length: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut have = buf.len() - header_end;
    while have < length {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        have += n;
    }
    let fault = header(FAULT_HEADER)
        .and_then(|f| Fault::from_name(&f))
        .unwrap_or(Fault::Http500);
    let service = header(SERVICE_HEADER).unwrap_or_default();
    if fault == Fault::Reset {
        return stream.shutdown(std::net::Shutdown::Both);
    }
    let (status, content_type, body) = error_response(&service, fault);
    let reason = match status {
        400 => "Bad Request",
        500 => "Internal Server Error",
        _ => "Service Unavailable",
    };
    write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nx-amzn-RequestId: injected-fault\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

/// Status, content type and body of `fault` in `service`'s protocol.
fn error_response(service: &str, fault: Fault) -> (u16, &'static str, String) {
    match service {
        "DynamoDB" => {
            let (status, code) = match fault {
                Fault::Http500 => (500, "InternalServerError"),
                Fault::Http503 => (503, "ServiceUnavailable"),
                Fault::ProvisionedThroughputExceeded => {
                    (400, "ProvisionedThroughputExceededException")
                }
                _ => (400, "ThrottlingException"),
            };
            (
                status,
                "application/x-amz-json-1.0",
                format!(
                    r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{code}","message":"injected {}"}}"#,
                    fault.name()
                ),
            )
        }
        "SNS" => {
            let (status, kind, code) = match fault {
                Fault::Http500 => (500, "Receiver", "InternalError"),
                Fault::Http503 => (503, "Receiver", "ServiceUnavailable"),
                _ => (400, "Sender", "Throttling"),
            };
            (
                status,
                "text/xml",
                format!(
                    r#"<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>{kind}</Type><Code>{code}</Code><Message>injected {}</Message></Error><RequestId>injected-fault</RequestId></ErrorResponse>"#,
                    fault.name()
                ),
            )
        }
        _ => {
            let (status, code) = match fault {
                Fault::Http500 => (500, "InternalError"),
                Fault::Http503 => (503, "ServiceUnavailable"),
                _ => (503, "SlowDown"),
            };
            (
                status,
                "application/xml",
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>injected {}</Message><RequestId>injected-fault</RequestId></Error>"#,
                    fault.name()
                ),
            )
        }
    }
}
