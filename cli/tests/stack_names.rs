//! `--stack NAME` finds the tables and topics as NAME-totals, …, NAME-alerts, NAME-chat because
//! template.yaml names them so; infra/template_check.py holds the template to that (run here
//! on the template and on a copy that breaks it). Needs the project's Python venv (PyYAML),
//! which ./scripts/test prepares.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("cli/ sits in the repository")
        .to_path_buf()
}

fn template_check(template: &Path) -> Output {
    let venv = repo().join(".venv/bin/python");
    let python = if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    };
    Command::new(python)
        .arg(repo().join("infra/template_check.py"))
        .arg("--template")
        .arg(template)
        .output()
        .expect("python runs infra/template_check.py")
}

#[test]
fn the_template_names_tables_and_topics_after_the_stack() {
    let out = template_check(&repo().join("template.yaml"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let template = std::fs::read_to_string(repo().join("template.yaml")).unwrap();
    let renamed = template.replace(
        "TableName: !Sub \"${AWS::StackName}-budgets\"",
        "TableName: !Sub \"${AWS::StackName}-budget-items\"",
    );
    assert_ne!(
        renamed, template,
        "the budgets table's name is in the template"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("template.yaml");
    std::fs::write(&path, renamed).unwrap();
    let out = template_check(&path);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "BudgetsTable (BILLWATCH_BUDGETS_TABLE of ReportIngestFunction) is named \
             !Sub ${AWS::StackName}-budget-items, not !Sub \"${AWS::StackName}-budgets\": \
             billwatch --stack would not find it"
        ),
        "{stderr}"
    );
}
