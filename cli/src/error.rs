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
    /// A table, topic or bucket of the stack is not there (is billwatch deployed where the
    /// command looked?). Exit 1; the message names the stack and region the command used.
    NotDeployed(String),
}

/// Where a command looked for the stack: named in the message of [`CliError::NotDeployed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub stack: String,
    pub region: String,
}

impl CliError {
    pub fn input(message: impl Into<String>) -> Self {
        CliError::Input(vec![message.into()])
    }

    pub fn failed(message: impl ToString) -> Self {
        CliError::Failed(message.to_string())
    }

    /// The error in words, one line per problem; `at`: where the command connected, if it did.
    pub fn message(&self, at: Option<&Connection>) -> String {
        match self {
            CliError::Input(lines) => lines.join("\n"),
            CliError::Failed(message) => message.clone(),
            CliError::NotDeployed(what) => match at {
                Some(c) => format!(
                    "{what} not found in {}: is billwatch deployed there? try --stack NAME (now {}) or --region",
                    c.region, c.stack
                ),
                None => format!(
                    "{what} not found: is billwatch deployed there? try --stack NAME or --region"
                ),
            },
        }
    }

    /// Prints the error (`error: ` before each line) and gives the exit code.
    pub fn report(&self, at: Option<&Connection>) -> ExitCode {
        for line in self.message(at).lines() {
            eprintln!("error: {line}");
        }
        match self {
            CliError::Input(_) => ExitCode::from(2),
            CliError::Failed(_) | CliError::NotDeployed(_) => ExitCode::from(1),
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
