//! Model test of the delivery on the in-memory ports (skeleton: the oracle's own checks and the
//! fixture table against the engine).

#[path = "model/oracle.rs"]
mod oracle;

use billwatch_core::report::{summarize_path, Limits, Status};
use oracle::{KEYS, VARIANTS};
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

// The oracle's table is written by hand from the fixtures; the engine must read them so, or
// the model's verdicts mean nothing.
#[test]
fn the_oracle_table_is_what_the_engine_reads() {
    let dir = tempfile::tempdir().unwrap();
    for key in KEYS {
        for &v in key.variants {
            let variant = &VARIANTS[v];
            let path = dir.path().join(key.key.rsplit('/').next().unwrap());
            std::fs::write(&path, variant.content.bytes(&fixtures())).unwrap();
            let read = summarize_path(&path, None, &Limits::default());
            let Some(figures) = &variant.report else {
                assert!(read.is_err(), "{} should not read", variant.name);
                continue;
            };
            let s = read.unwrap_or_else(|e| panic!("{}: {e}", variant.name));
            assert_eq!(
                s.payer_account_id.as_deref(),
                Some(figures.payer),
                "{}",
                variant.name
            );
            assert_eq!(
                s.billing_period.map(|p| p.to_string()).as_deref(),
                Some(figures.period)
            );
            assert_eq!(s.format.rank(), figures.rank, "{}", variant.name);
            assert_eq!(
                s.status == Status::Final,
                figures.final_bill,
                "{}",
                variant.name
            );
            let lines: std::collections::BTreeMap<_, _> = s
                .totals
                .iter()
                .map(|t| {
                    (
                        (t.account_id.clone(), t.service.clone(), t.currency.clone()),
                        t.cost,
                    )
                })
                .collect();
            assert_eq!(lines, figures.lines(), "{}", variant.name);
            assert_eq!(
                s.checks.iter().any(|c| !c.ok),
                figures.checks_fail,
                "{}",
                variant.name
            );
        }
    }
}
