//! `billwatch page --period` against the local stack started by ./scripts/test: a generated CUR
//! manifest delivered through the ingest function into a stack of its own, with a monthly budget
//! and a filtered amortized one; the page read from the stack must show, per budget, the same
//! month to date, amount and spend per day as the page of the same file made offline.

use billwatch_core::budget::{Budget, Model, Scope, Threshold};
use billwatch_tests::generated::cur_delivery;
use billwatch_tests::Stack;
use std::path::Path;
use std::process::Command;

/// The figures of each section of a page: (title, actual, amount, the days' spends).
fn figures(html: &str) -> Vec<(String, String, String, Vec<String>)> {
    let attr = |tag: &str, name: &str| -> String {
        tag.split(&format!(" {name}=\""))
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or_default()
            .to_string()
    };
    html.split("<section ")
        .skip(1)
        .map(|part| {
            let head = part.split('>').next().unwrap();
            let days = part
                .split("<rect ")
                .skip(1)
                .map(|r| attr(&format!(" {r}"), "data-spend"))
                .collect();
            (
                attr(&format!(" {head}"), "data-section"),
                attr(&format!(" {head}"), "data-actual"),
                attr(&format!(" {head}"), "data-amount"),
                days,
            )
        })
        .collect()
}

fn budget(name: &str, amount: &str) -> Budget {
    Budget {
        name: name.into(),
        scope: Scope::All,
        amount: amount.parse().unwrap(),
        currency: "USD".into(),
        thresholds: vec![Threshold::percent("80".parse().unwrap())],
        escalation_step: None,
        topic_arn: None,
        digest: false,
        digest_every: Default::default(),
        channels: Vec::new(),
        model: Model::default(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stacks_page_shows_what_the_offline_page_of_the_same_report_shows() {
    let stack = Stack::new().await;
    let dir = tempfile::tempdir().unwrap();
    let nov = cur_delivery(dir.path(), "2026-11", 3);
    stack.upload(&nov.2, &nov.3).await;
    let event = stack.deliver(&nov.0, &nov.1).await;
    stack.ingest.handle(&event).await.unwrap();
    let text = "[[budget]]\nname = \"all\"\namount = \"50000\"\ncurrency = \"USD\"\nthresholds = [\"80%\"]\n\n\
                [[budget]]\nname = \"data-amortized\"\namount = \"20000\"\ncurrency = \"USD\"\ncost = \"amortized\"\n\
                thresholds = [\"80%\"]\n[budget.filter]\ntags = { team = [\"data\"] }\n";
    let budgets_file = dir.path().join("budgets.toml");
    std::fs::write(&budgets_file, text).unwrap();
    // The same budgets in the stack's table, as `budgets apply` leaves them.
    stack
        .setup
        .budgets
        .put(&budget("all", "50000"))
        .await
        .unwrap();
    let mut amortized = budget("data-amortized", "20000");
    amortized.model.measure.cost = billwatch_core::budget::cost::CostType::Amortized;
    amortized.model.filter = serde_json::from_str(r#"{"tags": {"team": ["data"]}}"#).unwrap();
    stack.setup.budgets.put(&amortized).await.unwrap();
    // Delivered again, so the pass budget's figures are stored with the live version.
    let event = stack.deliver(&nov.0, &nov.1).await;
    stack.ingest.handle(&event).await.unwrap();

    let run = |args: &[&str]| {
        let t = &stack.tables;
        let out = Command::new(env!("CARGO_BIN_EXE_billwatch"))
            .args(args)
            .envs(billwatch_tests::Principal::for_cli(args).env())
            .env("BILLWATCH_TOTALS_TABLE", &t.totals)
            .env("BILLWATCH_REPORTS_TABLE", &t.reports)
            .env("BILLWATCH_BUDGETS_TABLE", &t.budgets)
            .env("BILLWATCH_ALERTS_TABLE", &t.alerts)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let (from_stack, offline) = (
        dir.path().join("stack.html"),
        dir.path().join("offline.html"),
    );
    run(&[
        "page",
        "--period",
        "2026-11",
        "-o",
        from_stack.to_str().unwrap(),
    ]);
    run(&[
        "page",
        "--report",
        nov.4.to_str().unwrap(),
        "--budgets",
        budgets_file.to_str().unwrap(),
        "-o",
        offline.to_str().unwrap(),
    ]);
    let read = |p: &Path| figures(&std::fs::read_to_string(p).unwrap());
    let (a, b) = (read(&from_stack), read(&offline));
    assert_eq!(a.len(), 2, "{a:?}");
    assert_eq!(a, b);
    assert!(
        a.iter().all(|s| !s.1.is_empty() && s.3.len() == 30),
        "{a:?}"
    );
}
