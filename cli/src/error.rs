//! One error type for every command, and one exit-code policy: 2 for bad input and usage (as
//! clap does for a bad flag), 1 for a failed AWS call or I/O. A closed stdout pipe (`| head`)
//! is not an error: output stops quietly.

use std::io::Write;
use std::process::ExitCode;

#[derive(Debug)]
pub enum CliError {
    /// Bad input: a file, a value, a flag combination. Exit 2, one `error:` line each.
    Input(Vec<String>),
    /// An AWS call or I/O failed. Exit 1.
    Failed(String),
}

impl CliError {
    pub fn input(message: impl Into<String>) -> Self {
        CliError::Input(vec![message.into()])
    }

    pub fn failed(message: impl ToString) -> Self {
        CliError::Failed(message.to_string())
    }

    pub fn report(&self) -> ExitCode {
        match self {
            CliError::Input(lines) => {
                for line in lines {
                    eprintln!("error: {line}");
                }
                ExitCode::from(2)
            }
            CliError::Failed(message) => {
                eprintln!("error: {message}");
                ExitCode::from(1)
            }
        }
    }
}

impl From<billwatch_aws::store::StoreError> for CliError {
    fn from(e: billwatch_aws::store::StoreError) -> Self {
        match &e {
            billwatch_aws::store::StoreError::Dynamo {
                operation,
                table,
                error,
            } => crate::aws_error::explain(&format!("dynamodb:{operation}"), error, Some(table)),
            _ => CliError::failed(e),
        }
    }
}

/// Writes to stdout. A closed pipe ends the program quietly with success (the reader has what
/// it wanted); any other write error is a failure.
pub fn print(text: &str) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(CliError::failed(format!("writing to stdout: {e}"))),
    }
}
