//! Text from reports (service names, keys, errors) made safe for every place an alert is read:
//! SNS subjects (under 100 printable ASCII characters, one line), e-mail bodies (no control
//! characters), spreadsheets (no leading formula character).

/// Whether `c` is a Unicode format character (general category Cf, Unicode 15.1): invisible
/// characters that change how the text around them is shown or read: the bidirectional
/// embeddings, overrides and isolates (U+202A..U+202E, U+2066..U+2069) that can make a service
/// name or an amount read backwards, zero-width spaces and joiners (U+200B..U+200F), the soft
/// hyphen (U+00AD), the byte order mark (U+FEFF), word joiners and invisible operators
/// (U+2060..U+2064), the tag characters (U+E0001, U+E0020..U+E007F) and the rest of the category.
/// None belongs in an alert: each is removed.
pub fn is_format_char(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// A character no alert shows: a control character (other than the line breaks and tabs a body
/// keeps, see the callers) or a format character ([`is_format_char`]).
fn hidden(c: char) -> bool {
    c.is_control() || is_format_char(c)
}

/// SNS subjects must be under 100 characters, printable ASCII and no line breaks.
pub const MAX_SUBJECT: usize = 99;

/// Replaces control characters (and anything SNS would refuse in a subject) and caps length.
pub fn sanitize_subject(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .filter(|&c| !is_format_char(c))
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

/// Strips control characters other than line breaks and tabs, and format characters
/// ([`is_format_char`]), from text that goes into a body. The Unicode line and paragraph
/// separators (U+2028, U+2029) become line breaks.
pub fn sanitize_text(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{2028}' | '\u{2029}' => '\n',
            c => c,
        })
        .filter(|&c| !hidden(c) || matches!(c, '\n' | '\t'))
        .collect()
}

/// Report text is shown at most this many characters long, so a message stays far below SNS's
/// 256 KB whatever a report holds (a service code is at most 320 bytes, an S3 key 1,024).
pub const MAX_REPORT_TEXT: usize = 400;

/// A value from a report, made safe to show: control characters removed, at most
/// [`MAX_REPORT_TEXT`] characters, and a leading `=`, `+`, `-`, `@` (a spreadsheet formula when
/// pasted or exported) defused with a `'`.
pub fn report_text(value: &str) -> String {
    let mut clean: String = value
        .chars()
        .filter(|&c| !hidden(c) && !matches!(c, '\u{2028}' | '\u{2029}'))
        .take(MAX_REPORT_TEXT)
        .collect();
    if value
        .chars()
        .filter(|&c| !hidden(c) && !matches!(c, '\u{2028}' | '\u{2029}'))
        .nth(MAX_REPORT_TEXT)
        .is_some()
    {
        clean.push('…');
    }
    match clean.chars().next() {
        Some('=' | '+' | '-' | '@') => format!("'{clean}"),
        _ => clean,
    }
}

/// Text for identifiers that travel as message attributes and JSON (`alert_id`): printable
/// ASCII kept, every other byte written `%XX`, at most `max` bytes (a longer one keeps its
/// start and ends in a hash of the whole, so two ids never merge).
pub fn id_text(value: &str, max: usize) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_graphic() && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    bounded(out, max)
}

/// `text` if it is at most `max` bytes; else its first bytes and `~` and a 64-bit FNV-1a hash
/// of the whole, `max` bytes in all: distinct texts stay distinct (DynamoDB keys are at most
/// 1,024 bytes).
pub fn bounded(text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let mut hash: u64 = 0xcbf29ce484222325;
    for b in text.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x100000001b3);
    }
    let mut cut = max.saturating_sub(17);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}~{hash:016x}", &text[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_printable_bounded_and_distinct() {
        assert_eq!(
            id_text("2026-11:health#new-service#1#AmazonEC2", 512),
            "2026-11:health#new-service#1#AmazonEC2"
        );
        assert_eq!(id_text("a b\n=c%", 512), "a%20b%0A=c%25");
        let long_a = id_text(&format!("{}a", "x".repeat(2000)), 512);
        let long_b = id_text(&format!("{}b", "x".repeat(2000)), 512);
        assert_eq!(long_a.len(), 512);
        assert_ne!(long_a, long_b);
        assert_eq!(bounded("é".repeat(600), 100).len(), 100 - 1);
    }

    #[test]
    fn report_text_is_bounded() {
        let t = report_text(&"y".repeat(5000));
        assert_eq!(t.chars().count(), MAX_REPORT_TEXT + 1);
        assert!(t.ends_with('…'));
    }

    #[test]
    fn subjects_fit_sns() {
        let s = sanitize_subject("billwatch:\tteam\nbudget \u{7} at 80%");
        assert_eq!(s, "billwatch: team budget ? at 80%");
        let long = sanitize_subject(&"x".repeat(300));
        assert_eq!(long.len(), MAX_SUBJECT);
        assert!(long.ends_with("..."));
        assert!(sanitize_subject("café ☕ budget").is_ascii());
    }

    /// SNS's subject rules at their edges: a 200-character name of non-ASCII letters, emoji,
    /// line breaks and control characters still gives 1-99 printable ASCII characters that
    /// start with a letter, digit or punctuation (what SNS Publish checks and the emulator does
    /// not).
    #[test]
    fn subjects_stay_valid_for_sns_at_the_edges() {
        let hostile = format!(
            "{}\n\r\t\u{0}\u{7f}{}",
            "\u{e9}\u{2615}\u{4e2d}".repeat(50),
            "\u{1F4B8} budget \u{2014} \u{fffd}".repeat(10)
        );
        assert!(hostile.chars().count() >= 200);
        for text in [
            format!("billwatch: {hostile}: actual spend passed 80% of 1,000.00 USD - Nov 2026"),
            format!("   \n\t{hostile}"),
            hostile.clone(),
            "x".repeat(MAX_SUBJECT),
            "x".repeat(MAX_SUBJECT + 1),
            format!("{} {}", "y".repeat(MAX_SUBJECT - 2), "z".repeat(5)),
        ] {
            let s = sanitize_subject(&text);
            let m = super::super::Message {
                subject: s.clone(),
                text: String::new(),
                payload: serde_json::Value::Null,
                attributes: vec![],
            };
            assert_eq!(m.sns_problems(), Vec::<String>::new(), "{s:?}");
            assert!(s.len() <= MAX_SUBJECT && s.chars().count() < 100, "{s:?}");
            assert!(!s.contains("  "), "{s:?}");
        }
        assert_eq!(
            sanitize_subject(&"x".repeat(MAX_SUBJECT)),
            "x".repeat(MAX_SUBJECT)
        );
    }

    #[test]
    fn bodies_keep_line_breaks_only_and_formulas_are_defused() {
        assert_eq!(sanitize_text("a\u{1b}[31mb\nc\td"), "a[31mb\nc\td");
        assert_eq!(report_text("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(report_text("@cmd"), "'@cmd");
        assert_eq!(report_text("AmazonEC2"), "AmazonEC2");
        assert_eq!(report_text("a\u{0}b"), "ab");
    }

    #[test]
    fn format_characters_are_removed_everywhere() {
        // A right-to-left override makes "AmazonEC2 1.00 USD" read as something else; zero-width
        // characters make two names look alike; a BOM, a soft hyphen, tag characters hide.
        let evil = "Amazon\u{202E}2CE\u{202C} \u{2066}x\u{2069}\u{200B}\u{200D}\u{FEFF}\u{00AD}\u{2060}\u{E0041}\u{061C}\u{180E}y";
        for cleaned in [report_text(evil), sanitize_text(evil)] {
            assert_eq!(cleaned, "Amazon2CE xy", "{cleaned:?}");
        }
        assert_eq!(sanitize_subject(evil), "Amazon2CE xy");
        // Every character of category Cf in the ranges, and only those.
        for c in [
            '\u{202A}',
            '\u{202B}',
            '\u{202D}',
            '\u{2067}',
            '\u{2068}',
            '\u{200E}',
            '\u{200F}',
            '\u{206F}',
            '\u{FFF9}',
            '\u{E007F}',
            '\u{1D173}',
        ] {
            assert!(is_format_char(c), "{c:?}");
        }
        for c in ['a', 'é', '€', '\u{2010}', '\u{2065}', '\u{FEFE}', '☕'] {
            assert!(!is_format_char(c), "{c:?}");
        }
        // A line separator is a line break in a body, nothing in a one-line value.
        assert_eq!(sanitize_text("a\u{2028}b"), "a\nb");
        assert_eq!(report_text("a\u{2029}b"), "ab");
        // A leading formula character hidden behind a format character is still defused.
        assert_eq!(report_text("\u{200B}=SUM(A1)"), "'=SUM(A1)");
    }
}
