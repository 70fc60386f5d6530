//! A FOCUS file mixing clouds (AWS, Azure, Oracle) with an 80-character account id: summed
//! under one payer with a warning naming the providers, and a table that stays within a
//! terminal's 80 columns (the JSON keeps every id whole). Offline.

use std::process::Command;

fn focus_file(dir: &std::path::Path) -> (std::path::PathBuf, String) {
    let long = format!("ocid1.tenancy.oc1..{}", "a".repeat(61));
    assert_eq!(long.len(), 80);
    let text = format!(
        "BilledCost,BillingAccountId,SubAccountId,ServiceName,BillingCurrency,ProviderName,\
         BillingPeriodStart,ChargeCategory\n\
         10.50,111111111111,111111111111,Compute,USD,AWS,2026-11-01T00:00:00Z,Usage\n\
         2.25,sub-azure,222222222222,Virtual Machines,USD,Microsoft,2026-11-01T00:00:00Z,Usage\n\
         3,{long},{long},Compute,USD,Oracle,2026-11-01T00:00:00Z,Usage\n"
    );
    let file = dir.join("mixed-focus.csv");
    std::fs::write(&file, text).unwrap();
    (file, long)
}

fn billwatch(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_billwatch"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn several_providers_are_named_and_long_ids_keep_the_table_narrow() {
    let dir = tempfile::tempdir().unwrap();
    let (file, long) = focus_file(dir.path());
    let (code, out, err) = billwatch(&["summarize", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(
            "warning: rows of several providers (AWS, Microsoft, Oracle) are summed together \
             under one payer"
        ),
        "{out}"
    );
    let table: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("ACCOUNT"))
        .take_while(|l| !l.is_empty())
        .collect();
    assert!(table.len() >= 6, "{out}");
    for line in &table {
        assert!(line.chars().count() <= 80, "{} wide: {line}", line.len());
    }
    assert!(out.contains("--output json has them whole"), "{out}");
    let (code, json, err) = billwatch(&["summarize", "--json", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(
        v["totals"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["account_id"] == long.as_str()),
        "{json}"
    );
    assert_eq!(v["warnings"].as_array().unwrap().len(), 1, "{json}");
}
