//! Asking before `budgets apply` removes or changes budgets: a question on a terminal, a
//! refusal when there is no one to ask (stdin is a pipe or a file), `--yes` to skip both.

use std::io::{BufRead, Write};

#[derive(Debug, PartialEq, Eq)]
pub(super) enum Answer {
    /// Go ahead.
    Yes,
    /// The person said no (or anything but yes, or nothing).
    No,
    /// Stdin is not a terminal, so nobody was asked.
    NoTerminal,
}

/// Asks `question` on `prompt` and reads the answer from `input`, when `terminal`; only `y` or
/// `yes` (any case) is a yes.
pub(super) fn ask(
    question: &str,
    terminal: bool,
    input: &mut impl BufRead,
    prompt: &mut impl Write,
) -> Answer {
    if !terminal {
        return Answer::NoTerminal;
    }
    let _ = write!(prompt, "{question} [y/N] ");
    let _ = prompt.flush();
    let mut line = String::new();
    if input.read_line(&mut line).is_err() {
        return Answer::No;
    }
    match line.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Answer::Yes,
        _ => Answer::No,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(terminal: bool, typed: &str) -> (Answer, String) {
        let mut prompt = Vec::new();
        let a = ask(
            "Remove 1 budget?",
            terminal,
            &mut typed.as_bytes(),
            &mut prompt,
        );
        (a, String::from_utf8(prompt).unwrap())
    }

    #[test]
    fn only_yes_goes_ahead_and_without_a_terminal_nobody_is_asked() {
        for typed in ["y\n", "YES\n", " yes \n"] {
            assert_eq!(
                answer(true, typed),
                (Answer::Yes, "Remove 1 budget? [y/N] ".into())
            );
        }
        for typed in ["\n", "n\n", "no\n", "yess\n", ""] {
            assert_eq!(answer(true, typed).0, Answer::No, "{typed:?}");
        }
        assert_eq!(answer(false, "y\n"), (Answer::NoTerminal, String::new()));
    }
}
