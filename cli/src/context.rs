//! What every command is given: the output format, the one tokio runtime of the process, and
//! (for the commands that call AWS) where AWS is. Built once by `main` and passed down; no
//! command reads global state.

use crate::aws::{Aws, AwsArgs};
use crate::error::{CliError, Connection};
use crate::output::Output;
use std::cell::OnceCell;
use std::future::Future;
use tokio::runtime::Runtime;

pub struct Ctx {
    /// `--output`.
    pub output: Output,
    /// The AWS flags given before the subcommand (`billwatch --stack NAME alerts`), under
    /// those of the subcommand.
    top_aws: AwsArgs,
    /// Built on first use, so offline commands start no threads.
    runtime: OnceCell<Runtime>,
    /// Where the command connected (its stack and region), for the message of an error.
    connection: OnceCell<Connection>,
}

impl Ctx {
    pub fn new(output: Output, top_aws: AwsArgs) -> Self {
        Self {
            output,
            top_aws,
            runtime: OnceCell::new(),
            connection: OnceCell::new(),
        }
    }

    /// Whether to print JSON: `--output json`, or the command's own `--json`.
    pub fn json(&self, flag: bool) -> bool {
        flag || self.output == Output::Json
    }

    /// The process's one runtime: two worker threads (the S3 bridge runs the synchronous
    /// engine on a blocking thread while the workers serve its reads).
    pub fn runtime(&self) -> &Runtime {
        self.runtime.get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a tokio runtime starts")
        })
    }

    /// Runs `future` to completion on [`Ctx::runtime`].
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime().block_on(future)
    }

    /// Where AWS is for a command given `args` (its own flags over those before the
    /// subcommand), with the region and credentials checked.
    pub async fn aws(&self, args: &AwsArgs) -> Result<Aws, CliError> {
        let aws = Aws::connect(args.clone().over(&self.top_aws)).await?;
        let _ = self.connection.set(Connection {
            stack: aws.stack().to_string(),
            region: aws.region().to_string(),
        });
        Ok(aws)
    }

    /// Where the command connected, once it has.
    pub fn connection(&self) -> Option<&Connection> {
        self.connection.get()
    }
}
