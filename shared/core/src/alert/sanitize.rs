//! Text from reports (service names, keys, errors) made safe for every place an alert is read:
//! SNS subjects (under 100 printable ASCII characters, one line), e-mail bodies (no control
//! characters), spreadsheets (no leading formula character).

/// SNS subjects must be under 100 characters, printable ASCII and no line breaks.
pub const MAX_SUBJECT: usize = 99;

/// Replaces control characters (and anything SNS would refuse in a subject) and caps length.
pub fn sanitize_subject(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| match c {
            c if c.is_whitespace() => ' ',
            c if c.is_ascii_graphic() => c,
            _ => '?',
        })
        .collect();
    let mut cleaned = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    if cleaned.len() > MAX_SUBJECT {
        cleaned.truncate(MAX_SUBJECT - 3);
        cleaned.push_str("...");
    }
    cleaned
}

/// Strips control characters other than line breaks and tabs from text that goes into a body.
pub fn sanitize_text(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect()
}

/// A value from a report, made safe to show: control characters removed, and a leading
/// `=`, `+`, `-`, `@` (a spreadsheet formula when pasted or exported) defused with a `'`.
pub fn report_text(value: &str) -> String {
    let clean: String = value.chars().filter(|c| !c.is_control()).collect();
    match clean.chars().next() {
        Some('=' | '+' | '-' | '@') => format!("'{clean}"),
        _ => clean,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_fit_sns() {
        let s = sanitize_subject("billwatch:\tteam\nbudget \u{7} at 80%");
        assert_eq!(s, "billwatch: team budget ? at 80%");
        let long = sanitize_subject(&"x".repeat(300));
        assert_eq!(long.len(), MAX_SUBJECT);
        assert!(long.ends_with("..."));
        assert!(sanitize_subject("café ☕ budget").is_ascii());
    }

    #[test]
    fn bodies_keep_line_breaks_only_and_formulas_are_defused() {
        assert_eq!(sanitize_text("a\u{1b}[31mb\nc\td"), "a[31mb\nc\td");
        assert_eq!(report_text("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(report_text("@cmd"), "'@cmd");
        assert_eq!(report_text("AmazonEC2"), "AmazonEC2");
        assert_eq!(report_text("a\u{0}b"), "ab");
    }
}
