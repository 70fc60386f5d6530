//! A private copy of billwatch's stack for one test, inside the local AWS emulator that
//! ./scripts/test starts: tables cloned from the ones the stack script created from
//! template.yaml (same keys, same indexes), a bucket, a topic and an SQS queue subscribed to it.

pub mod emf;
pub mod faults;
pub mod generated;
pub mod paced_s3;
pub mod principals;
pub mod receiver;
pub mod state;

pub use principals::Principal;

use aws_sdk_dynamodb::types::{AttributeValue, BillingMode, GlobalSecondaryIndex, Projection};
use aws_sdk_s3::primitives::ByteStream;
use billwatch_aws::clock::{Clock, ManualOffset};
use billwatch_aws::config::Config;
use billwatch_aws::ingest::Ingest;
use billwatch_aws::store::{AlertsStore, BudgetsStore, ReportsStore, TableNames, TotalsStore};
use billwatch_core::report::Limits;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn require(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: run the tests through ./scripts/test, which starts the local AWS \
             stack (moto) and creates billwatch's tables from template.yaml"
        )
    })
}

pub fn unique(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{prefix}-{}-{}-{}",
        std::process::id(),
        nanos % 1_000_000_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// The four stores over one set of tables, with the clients of one identity.
pub struct Stores {
    pub totals: TotalsStore,
    pub reports: ReportsStore,
    pub budgets: BudgetsStore,
    pub alerts: AlertsStore,
    pub sns: aws_sdk_sns::Client,
    /// The channels, read and posted to as this identity.
    pub channels: billwatch_aws::channels::Channels,
}

impl Stores {
    /// SNS and the channels, as the functions send with.
    pub fn senders(&self) -> billwatch_aws::notify::Senders<'_> {
        billwatch_aws::notify::Senders {
            sns: &self.sns,
            channels: Some(&self.channels),
            pages: None,
        }
    }

    pub fn new(sdk: &aws_config::SdkConfig, tables: &TableNames) -> Self {
        let db = billwatch_aws::clients::dynamodb(sdk);
        Stores {
            totals: TotalsStore::new(db.clone(), &tables.totals),
            reports: ReportsStore::new(db.clone(), &tables.reports),
            budgets: BudgetsStore::new(db.clone(), &tables.budgets),
            alerts: AlertsStore::new(db.clone(), &tables.alerts),
            sns: billwatch_aws::clients::sns(sdk),
            channels: billwatch_aws::channels::Channels::new(
                BudgetsStore::new(db, &tables.budgets),
                aws_sdk_ssm::Client::new(sdk),
                aws_sdk_secretsmanager::Client::new(sdk),
            ),
        }
    }
}

/// `ingest` with channel copies retried after tenths of a second rather than seconds and an
/// answer awaited 1.5 s (the schedule itself is unit-tested in the core; a `Retry-After` is
/// still honoured as asked).
pub fn quick_channels(mut ingest: Ingest) -> Ingest {
    if let Some(channels) = std::sync::Arc::get_mut(&mut ingest.channels) {
        quicken(channels);
    }
    ingest
}

/// See [`quick_channels`].
pub fn quicken(channels: &mut billwatch_aws::channels::Channels) {
    channels.backoff = billwatch_core::channel::answer::Backoff {
        attempts: 3,
        first: std::time::Duration::from_millis(100),
        most: std::time::Duration::from_millis(400),
        budget: std::time::Duration::from_secs(5),
    };
    channels.http.timeout = std::time::Duration::from_millis(1500);
}

/// The budget the channel and page tests share: `team-dev`, 150 USD over everything, at 50 %
/// and 75 % (the synthetic estimated bill crosses both), naming `channels`, with a daily digest
/// when `digest`.
pub fn team_budget(channels: &[&str], digest: bool) -> billwatch_core::budget::Budget {
    use billwatch_core::budget::{Budget, Scope, Threshold};
    Budget {
        name: "team-dev".into(),
        scope: Scope::All,
        amount: rust_decimal::Decimal::from(150),
        currency: "USD".into(),
        thresholds: vec![
            Threshold::percent(rust_decimal::Decimal::from(50)),
            Threshold::percent(rust_decimal::Decimal::from(75)),
        ],
        escalation_step: None,
        topic_arn: None,
        digest,
        channels: channels.iter().map(|c| c.to_string()).collect(),
        digest_every: Default::default(),
        model: Default::default(),
    }
}

pub struct Stack {
    pub ingest: Ingest,
    /// The ingest's clock: advance it to let leases run out.
    pub clock: ManualOffset,
    pub bucket: String,
    pub s3: aws_sdk_s3::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub queue_url: String,
    /// The tests' own SDK configuration (set-up and assertions; not recorded).
    pub sdk: aws_config::SdkConfig,
    /// The ingest function's (Principal::Ingest): for fresh or faulty clients of an Ingest.
    pub ingest_sdk: aws_config::SdkConfig,
    /// The stack's stores as the tests see them: set-up and assertions that are not the code
    /// under test (not recorded by the permissions check, unlike `ingest`'s own stores).
    pub setup: Stores,
    /// This test's own tables (cloned from the stack's).
    pub tables: TableNames,
    pub sns: aws_sdk_sns::Client,
    queue_arn: String,
    sequencer: AtomicU64,
}

async fn clone_table(dynamo: &aws_sdk_dynamodb::Client, source: &str, name: &str) {
    let described = dynamo
        .describe_table()
        .table_name(source)
        .send()
        .await
        .unwrap_or_else(|e| panic!("table {source} from the local stack: {e:?}"));
    let t = described.table().expect("a table description");
    let mut create = dynamo
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(t.key_schema().to_vec()))
        .set_attribute_definitions(Some(t.attribute_definitions().to_vec()));
    for g in t.global_secondary_indexes() {
        create = create.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(g.index_name().unwrap())
                .set_key_schema(Some(g.key_schema().to_vec()))
                .projection(
                    g.projection()
                        .cloned()
                        .unwrap_or_else(|| Projection::builder().build()),
                )
                .build()
                .unwrap(),
        );
    }
    create
        .send()
        .await
        .unwrap_or_else(|e| panic!("create {name}: {e:?}"));
}

impl Stack {
    pub async fn new() -> Self {
        require("AWS_ENDPOINT_URL");
        let base = TableNames {
            totals: require("BILLWATCH_TOTALS_TABLE"),
            reports: require("BILLWATCH_REPORTS_TABLE"),
            budgets: require("BILLWATCH_BUDGETS_TABLE"),
            alerts: require("BILLWATCH_ALERTS_TABLE"),
        };
        let sdk = billwatch_aws::clients::sdk_config().await;
        let dynamo = billwatch_aws::clients::dynamodb(&sdk);
        let id = unique("t");
        let tables = TableNames {
            totals: format!("{}-{id}", base.totals),
            reports: format!("{}-{id}", base.reports),
            budgets: format!("{}-{id}", base.budgets),
            alerts: format!("{}-{id}", base.alerts),
        };
        for (source, name) in [
            (&base.totals, &tables.totals),
            (&base.reports, &tables.reports),
            (&base.budgets, &tables.budgets),
            (&base.alerts, &tables.alerts),
        ] {
            clone_table(&dynamo, source, name).await;
        }
        let s3 = billwatch_aws::clients::s3(&sdk);
        let bucket = unique("billing");
        s3.create_bucket().bucket(&bucket).send().await.unwrap();
        // Versioned, as the template's billing bucket is: each event names the version it is for.
        s3.put_bucket_versioning()
            .bucket(&bucket)
            .versioning_configuration(
                aws_sdk_s3::types::VersioningConfiguration::builder()
                    .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let sns = billwatch_aws::clients::sns(&sdk);
        let topic = sns
            .create_topic()
            .name(unique("alerts"))
            .send()
            .await
            .unwrap();
        let topic_arn = topic.topic_arn().unwrap().to_string();
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let queue = sqs
            .create_queue()
            .queue_name(unique("inbox"))
            .send()
            .await
            .unwrap();
        let queue_url = queue.queue_url().unwrap().to_string();
        let queue_arn = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap()
            .attributes()
            .and_then(|a| {
                a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                    .cloned()
            })
            .unwrap();
        sns.subscribe()
            .topic_arn(&topic_arn)
            .protocol("sqs")
            .endpoint(&queue_arn)
            .send()
            .await
            .unwrap();
        let config = Config {
            tables,
            topic_arn: Some(topic_arn),
            chat_topic_arn: None,
            pages_bucket: None,
            bucket: Some(bucket.clone()),
            report_prefix: None,
            limits: Limits::default(),
            s3_reads: Default::default(),
            memory_mb: None,
            read_rate: Default::default(),
            metrics_namespace: None,
        };
        let ingest_sdk = Principal::Ingest.sdk(&sdk);
        let clients = billwatch_aws::clients::Clients::from_sdk(&ingest_sdk);
        let setup = Stores::new(&sdk, &config.tables);
        let tables = config.tables.clone();
        let clock = ManualOffset::default();
        Stack {
            ingest: quick_channels(Ingest::new(config, clients, Clock::offset(clock.clone()))),
            clock,
            bucket,
            s3,
            sqs,
            queue_url,
            sdk,
            ingest_sdk,
            setup,
            tables,
            sns,
            queue_arn,
            sequencer: AtomicU64::new(0x0055_AED6_DCD9_0281),
        }
    }

    /// Another Ingest over the same tables, topic and bucket, with the same (movable) clock, and
    /// the given clients: a fresh process (Lambda's retry), or one whose calls are faulted.
    pub fn ingest_with(&self, clients: billwatch_aws::clients::Clients) -> Ingest {
        quick_channels(Ingest::new(
            self.ingest.config.clone(),
            clients,
            Clock::offset(self.clock.clone()),
        ))
    }

    /// A SecureString parameter, as a deployment keeps a channel's URL or key (set-up).
    pub async fn put_secure_parameter(&self, name: &str, value: &str) {
        aws_sdk_ssm::Client::new(&self.sdk)
            .put_parameter()
            .name(name)
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .send()
            .await
            .unwrap();
    }

    /// A Secrets Manager secret, as a deployment keeps a channel's URL or key (set-up).
    pub async fn put_secret(&self, name: &str, value: &str) {
        aws_sdk_secretsmanager::Client::new(&self.sdk)
            .create_secret()
            .name(name)
            .secret_string(value)
            .send()
            .await
            .unwrap();
    }

    /// A fresh Ingest with clean clients (nothing shared with a killed process).
    pub fn fresh_ingest(&self) -> Ingest {
        self.ingest_with(billwatch_aws::clients::Clients::from_sdk(&self.ingest_sdk))
    }

    /// The health-check function's stores and SNS client (Principal::Health).
    pub fn health(&self) -> Stores {
        Stores::new(
            &Principal::Health.sdk(&self.sdk),
            &self.ingest.config.tables,
        )
    }

    /// Runs the daily digest as the health-check function does at `now` (RFC 3339), as its
    /// principal, and returns (budgets with a digest, digests sent).
    pub async fn run_digest(&self, now: &str) -> (usize, u64) {
        let i = &self.ingest;
        let config = billwatch_aws::health::HealthConfig {
            tables: i.config.tables.clone(),
            topic_arn: i.config.topic_arn.clone(),
            chat_topic_arn: None,
            silence_hours: 36,
            pages_bucket: None,
        };
        let now = chrono::DateTime::parse_from_rfc3339(now)
            .unwrap()
            .with_timezone(&chrono::Utc);
        let h = self.health();
        let stores = (&h.budgets, &h.reports, &h.totals, &h.alerts);
        let sent = billwatch_aws::digest::digest(&config, stores, h.senders(), now)
            .await
            .unwrap();
        (sent.budgets, sent.sent)
    }

    /// Another topic, subscribed to the same inbox queue (for budgets with their own topic).
    pub async fn extra_topic(&self) -> String {
        self.inbox_topic("alerts-extra").await
    }

    /// A chat topic (AWS Chatbot's format), subscribed to the same inbox queue.
    pub async fn chat_topic(&self) -> String {
        self.inbox_topic("chat").await
    }

    async fn inbox_topic(&self, prefix: &str) -> String {
        let topic = self
            .sns
            .create_topic()
            .name(unique(prefix))
            .send()
            .await
            .unwrap();
        let arn = topic.topic_arn().unwrap().to_string();
        self.sns
            .subscribe()
            .topic_arn(&arn)
            .protocol("sqs")
            .endpoint(&self.queue_arn)
            .send()
            .await
            .unwrap();
        arn
    }

    /// Every item of a table (a Scan: fine in a test, never in billwatch).
    pub async fn scan(&self, table: &str) -> Vec<HashMap<String, AttributeValue>> {
        let dynamo = billwatch_aws::clients::dynamodb(&self.sdk);
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = dynamo
                .scan()
                .table_name(table)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .unwrap_or_else(|e| panic!("scan {table}: {e:?}"));
            out.extend(page.items().iter().cloned());
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => return out,
            }
        }
    }

    /// The messages on the inbox now, without waiting (moto delivers SNS to SQS within the
    /// Publish call).
    pub async fn received_alerts_now(&self) -> Vec<Value> {
        self.receive(0).await
    }

    pub async fn upload(&self, key: &str, file: &Path) {
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from_path(file).await.unwrap())
            .send()
            .await
            .unwrap_or_else(|e| panic!("upload {key}: {e:?}"));
    }

    /// A fresh sequencer, greater than every one handed out before.
    pub fn next_sequencer(&self) -> String {
        format!(
            "{:018X}",
            self.sequencer.fetch_add(0x100, Ordering::Relaxed)
        )
    }

    /// The S3 notification AWS would send for this object (key URL-encoded, `+` for spaces).
    pub async fn event_for(&self, key: &str, sequencer: &str) -> Value {
        let head = self
            .s3
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("head {key}: {e:?}"));
        let mut event = s3_event(
            &self.bucket,
            key,
            head.content_length().unwrap_or_default(),
            head.e_tag().unwrap_or_default().trim_matches('"'),
            sequencer,
        );
        if let Some(version) = head.version_id() {
            event["Records"][0]["s3"]["object"]["versionId"] = json!(version);
        }
        event
    }

    /// Upload, then deliver its event with a new sequencer.
    pub async fn deliver(&self, key: &str, file: &Path) -> Value {
        self.upload(key, file).await;
        self.event_for(key, &self.next_sequencer()).await
    }

    /// Every SNS message waiting on the subscribed queue (the SNS envelope, parsed).
    pub async fn received_alerts(&self) -> Vec<Value> {
        self.receive(1).await
    }

    async fn receive(&self, wait_seconds: i32) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let page = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(wait_seconds)
                .send()
                .await
                .unwrap();
            let messages = page.messages();
            if messages.is_empty() {
                return out;
            }
            for m in messages {
                out.push(serde_json::from_str(m.body().unwrap()).unwrap());
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
}

/// Like Python's `quote_plus(key, safe="/")`, as S3 encodes keys in notifications.
pub fn encode_key(key: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~')
        .remove(b' ');
    percent_encoding::utf8_percent_encode(key, SET)
        .to_string()
        .replace(' ', "+")
}

pub fn s3_event(bucket: &str, key: &str, size: i64, etag: &str, sequencer: &str) -> Value {
    json!({"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLEBILLING"},
        "requestParameters": {"sourceIPAddress": "72.21.217.54"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "billwatch-reports",
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"}, "arn": format!("arn:aws:s3:::{bucket}")},
            "object": {"key": encode_key(key), "size": size, "eTag": etag, "sequencer": sequencer}
        }
    }]})
}

/// The Amazon EventBridge "Object Created" event S3 sends for the object of a one-record S3
/// notification (shape of the AWS docs' example, infra/local/events/): the same bucket, the
/// same URL-encoded key, size, ETag, version id and sequencer; `time` in whole seconds.
pub fn as_eventbridge(notification: &Value) -> Value {
    let record = &notification["Records"][0];
    let bucket = record["s3"]["bucket"]["name"].as_str().unwrap();
    let object = &record["s3"]["object"];
    let time = chrono::DateTime::parse_from_rfc3339(record["eventTime"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    let mut detail_object = json!({
        "key": object["key"],
        "size": object["size"],
        "etag": object["eTag"],
        "sequencer": object["sequencer"],
    });
    if let Some(version) = object.get("versionId") {
        detail_object["version-id"] = version.clone();
    }
    json!({
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "123456789012",
        "time": time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "region": record["awsRegion"],
        "resources": [format!("arn:aws:s3:::{bucket}")],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": detail_object,
            "request-id": "N4N7GDK58NMKJ12R",
            "requester": "123456789012",
            "source-ip-address": "1.2.3.4",
            "reason": "PutObject"
        }
    })
}
