use super::*;

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn p(s: &str) -> Period {
    s.parse().unwrap()
}

#[test]
fn cadences_read_and_print_as_the_budgets_file_spells_them() {
    for c in Cadence::ALL {
        assert_eq!(c.name().parse::<Cadence>(), Ok(c));
    }
    assert_eq!(Cadence::default(), Cadence::Monthly);
    let e = "yearly".parse::<Cadence>().unwrap_err();
    assert!(e.contains("\"yearly\"") && e.contains("annual"), "{e}");
}

#[test]
fn each_cadence_has_the_span_that_holds_a_day() {
    let d = day("2026-11-07");
    assert_eq!(Cadence::Daily.span_of(d), Span::Day(d));
    assert_eq!(Cadence::Monthly.span_of(d), Span::Month(p("2026-11")));
    assert_eq!(
        Cadence::Quarterly.span_of(d),
        Span::Quarter {
            year: 2026,
            quarter: 4
        }
    );
    assert_eq!(Cadence::Annual.span_of(d), Span::Year(2026));
    // Quarter boundaries.
    for (date, q) in [
        ("2026-01-01", 1),
        ("2026-03-31", 1),
        ("2026-04-01", 2),
        ("2026-06-30", 2),
        ("2026-07-01", 3),
        ("2026-09-30", 3),
        ("2026-10-01", 4),
        ("2026-12-31", 4),
    ] {
        assert_eq!(
            Cadence::Quarterly.span_of(day(date)),
            Span::Quarter {
                year: 2026,
                quarter: q
            },
            "{date}"
        );
    }
}

#[test]
fn spans_know_their_days_and_months() {
    let q1_2028 = Span::Quarter {
        year: 2028,
        quarter: 1,
    };
    assert_eq!(
        (q1_2028.first_day(), q1_2028.last_day()),
        (day("2028-01-01"), day("2028-03-31"))
    );
    assert_eq!(q1_2028.days(), 31 + 29 + 31, "2028 is a leap year");
    assert_eq!(
        q1_2028.months(),
        vec![p("2028-01"), p("2028-02"), p("2028-03")]
    );
    let q4 = Span::Quarter {
        year: 2026,
        quarter: 4,
    };
    assert_eq!(q4.days(), 92);
    assert_eq!(q4.months(), vec![p("2026-10"), p("2026-11"), p("2026-12")]);
    let year = Span::Year(2026);
    assert_eq!(year.days(), 365);
    assert_eq!(year.months().len(), 12);
    assert_eq!(year.months()[11], p("2026-12"));
    let month = Span::Month(p("2026-02"));
    assert_eq!((month.first_day(), month.days()), (day("2026-02-01"), 28));
    assert_eq!(month.months(), vec![p("2026-02")]);
    let d = Span::Day(day("2026-11-07"));
    assert_eq!((d.days(), d.months()), (1, vec![p("2026-11")]));
}

#[test]
fn days_to_date_count_what_has_passed_of_the_span() {
    let q4 = Span::Quarter {
        year: 2026,
        quarter: 4,
    };
    assert_eq!(q4.days_to(day("2026-09-30")), 0);
    assert_eq!(q4.days_to(day("2026-10-01")), 1);
    assert_eq!(q4.days_to(day("2026-11-07")), 31 + 7);
    assert_eq!(q4.days_to(day("2026-12-31")), 92);
    assert_eq!(q4.days_to(day("2027-02-01")), 92);
}

#[test]
fn spans_print_and_read_back_as_messages_name_them() {
    for (text, span) in [
        ("2026-11-07", Span::Day(day("2026-11-07"))),
        ("2026-11", Span::Month(p("2026-11"))),
        (
            "2026-Q4",
            Span::Quarter {
                year: 2026,
                quarter: 4,
            },
        ),
        ("2026", Span::Year(2026)),
    ] {
        assert_eq!(span.to_string(), text);
        assert_eq!(text.parse::<Span>(), Ok(span), "{text}");
    }
    for bad in [
        "2026-Q5",
        "2026-Q0",
        "26-Q1",
        "2026-13",
        "2026-02-30",
        "Q4",
        "",
        "20266",
    ] {
        let e = bad.parse::<Span>().unwrap_err();
        assert!(
            e.contains("is not a day, month, quarter or year"),
            "{bad}: {e}"
        );
    }
}
