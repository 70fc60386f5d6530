//! Small bar charts for the terminal (`daily`, `history --chart`, `totals --chart`): one line
//! per row, bars in eighths of a character scaled to the largest value or budget mark, the
//! budget drawn as `┃` at its column.

use billwatch_core::money_text::cents;
use rust_decimal::Decimal;

/// The widest bar, in characters.
pub const WIDTH: usize = 40;

/// A bar of `value` against `max` in eighths of a character (empty for 0 or less).
pub fn bar(value: Decimal, max: Decimal) -> String {
    if max <= Decimal::ZERO || value <= Decimal::ZERO {
        return String::new();
    }
    let eighths = (value.min(max) / max * Decimal::from(WIDTH * 8)).round();
    let eighths: usize = eighths.try_into().unwrap_or(0);
    let mut out = "█".repeat(eighths / 8);
    if !eighths.is_multiple_of(8) {
        out.push([' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'][eighths % 8]);
    }
    out
}

/// One line of a chart: a label, a value, and where the budget stands on that line.
pub struct Row {
    pub label: String,
    pub value: Decimal,
    pub budget: Option<Decimal>,
    /// Said after the bar (e.g. "◀ anomaly").
    pub note: String,
}

/// The chart of `rows`: label, value to the cent, bar, the budget mark, and "over" when the
/// value passed its budget.
pub fn render(rows: &[Row]) -> String {
    let max = rows
        .iter()
        .flat_map(|r| [Some(r.value), r.budget])
        .flatten()
        .max()
        .unwrap_or_default();
    let label_w = rows
        .iter()
        .map(|r| r.label.chars().count())
        .max()
        .unwrap_or(0);
    let value_w = rows.iter().map(|r| cents(r.value).len()).max().unwrap_or(0);
    let mut out = String::new();
    for r in rows {
        let mut cells: Vec<char> = bar(r.value, max).chars().collect();
        if let Some(b) = r.budget.filter(|_| max > Decimal::ZERO) {
            let col: usize = (b / max * Decimal::from(WIDTH))
                .round()
                .try_into()
                .unwrap_or(0);
            let col = col.min(WIDTH);
            if cells.len() <= col {
                cells.resize(col + 1, ' ');
            }
            cells[col] = '┃';
        }
        let bar: String = cells.into_iter().collect();
        let over = match r.budget {
            Some(b) if r.value > b => "  over budget",
            _ => "",
        };
        let line = format!(
            "  {:<label_w$}  {:>value_w$}  {bar}{over}{}{}",
            r.label,
            cents(r.value),
            if r.note.is_empty() { "" } else { "  " },
            r.note
        );
        out += line.trim_end();
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(label: &str, value: i64, budget: Option<i64>) -> Row {
        Row {
            label: label.into(),
            value: Decimal::from(value),
            budget: budget.map(Decimal::from),
            note: String::new(),
        }
    }

    #[test]
    fn bars_scale_to_the_largest_value_in_eighths() {
        assert_eq!(
            bar(Decimal::from(10), Decimal::from(10)).chars().count(),
            WIDTH
        );
        assert_eq!(bar(Decimal::from(5), Decimal::from(10)), "█".repeat(20));
        // 1/80 of the max is 4 eighths: half a character.
        assert_eq!(bar(Decimal::from(1), Decimal::from(80)), "▌");
        assert_eq!(bar(Decimal::ZERO, Decimal::from(10)), "");
        assert_eq!(bar(Decimal::from(-3), Decimal::from(10)), "");
    }

    #[test]
    fn the_budget_is_a_mark_at_its_column_and_passing_it_is_said() {
        // Scale: the budget of 200 is the largest figure, so it sits at column 40.
        let text = render(&[
            row("2026-10", 100, Some(200)),
            row("2026-11", 150, Some(200)),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            format!("  2026-10  100.00  {}{}┃", "█".repeat(20), " ".repeat(20))
        );
        assert_eq!(
            lines[1],
            format!("  2026-11  150.00  {}{}┃", "█".repeat(30), " ".repeat(10))
        );
        // Past the budget: the bar fills to the value's scale and the mark sits inside it.
        let text = render(&[row("2026-12", 400, Some(200))]);
        let line = text.lines().next().unwrap();
        assert!(line.ends_with("  over budget"), "{line}");
        assert_eq!(line.chars().filter(|c| *c == '┃').count(), 1);
        assert_eq!(
            line.chars().position(|c| c == '┃'),
            Some(2 + 7 + 2 + 6 + 2 + 20)
        );
        // Labels and values stay aligned for any width.
        let text = render(&[row("a", 1, None), row("a-much-longer-label", 12345, None)]);
        let cols: Vec<usize> = text.lines().map(|l| l.find('.').unwrap()).collect();
        assert_eq!(cols[0], cols[1]);
    }
}
