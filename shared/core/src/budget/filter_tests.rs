use super::*;

/// A constructed line: its dimensions, and the tag and cost category columns the report has.
#[derive(Default)]
struct L {
    account: &'static str,
    service: &'static str,
    region: &'static str,
    usage_type: &'static str,
    operation: &'static str,
    /// (name, value) of each tag column the report has; "" when this line has no value.
    tags: Vec<(&'static str, &'static str)>,
    categories: Vec<(&'static str, &'static str)>,
}

impl Line for L {
    fn value(&self, d: Dimension) -> &str {
        match d {
            Dimension::Account => self.account,
            Dimension::Service => self.service,
            Dimension::Region => self.region,
            Dimension::UsageType => self.usage_type,
            Dimension::Operation => self.operation,
        }
    }
    fn keyed(&self, kind: Keyed, name: &str) -> Option<&str> {
        let columns = match kind {
            Keyed::Tag => &self.tags,
            Keyed::CostCategory => &self.categories,
        };
        columns.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }
}

fn ec2(account: &'static str, team: &'static str) -> L {
    L {
        account,
        service: "AmazonEC2",
        region: "us-east-1",
        usage_type: "USE1-BoxUsage:m5.large",
        operation: "RunInstances",
        tags: vec![("team", team), ("env", "prod")],
        categories: vec![("BusinessUnit", "Analytics")],
    }
}

/// A filter from the JSON form of its TOML table (same data model).
fn filter(json: &str) -> Filter {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"))
}

fn filter_err(json: &str) -> String {
    serde_json::from_str::<Filter>(json)
        .unwrap_err()
        .to_string()
}

#[test]
fn glob_matches_runs_of_characters_at_the_stars_only() {
    for (pattern, value, want) in [
        ("USE1-BoxUsage:*", "USE1-BoxUsage:m5.large", true),
        ("USE1-BoxUsage:*", "USE1-BoxUsage:", true),
        ("USE1-BoxUsage:*", "USW2-BoxUsage:m5.large", false),
        ("*", "", true),
        ("*", "anything", true),
        ("", "", true),
        ("", "x", false),
        ("AmazonEC2", "AmazonEC2", true),
        ("AmazonEC2", "AmazonEC2x", false),
        ("AmazonEC2", "amazonec2", false),
        ("*BoxUsage*", "USE1-BoxUsage:m5", true),
        ("a*b*c", "abc", true),
        ("a*b*c", "ac", false),
        ("a*b*c", "axxbyyc", true),
        ("ab*ba", "aba", false),
        ("ab*ba", "abba", true),
        ("*a*a", "aa", true),
        ("*a*a", "a", false),
        ("*.large", "m5.large", true),
        ("*.large", "m5.xlarge", false),
    ] {
        assert_eq!(glob(pattern, value), want, "{pattern:?} ~ {value:?}");
    }
}

#[test]
fn every_dimension_named_must_match_and_no_exclusion() {
    let f = filter(
        r#"{"accounts": ["111111111111", "222222222222"], "services": ["AmazonEC2", "AmazonRDS"],
            "regions": ["us-east-1"], "usage_types": ["USE1-BoxUsage:*"],
            "operations": ["RunInstances"]}"#,
    );
    assert_eq!(f.matches(&ec2("111111111111", "data")), Ok(true));
    assert_eq!(f.matches(&ec2("333333333333", "data")), Ok(false));
    let mut other_region = ec2("111111111111", "data");
    other_region.region = "eu-west-1";
    assert_eq!(f.matches(&other_region), Ok(false));
    let mut other_usage = ec2("111111111111", "data");
    other_usage.usage_type = "USE1-EBS:VolumeUsage.gp3";
    assert_eq!(f.matches(&other_usage), Ok(false));
    // Exclusions win over inclusions.
    let f = filter(r#"{"accounts": ["111111111111"], "not_services": ["AWSSupportBusiness"]}"#);
    let mut support = ec2("111111111111", "data");
    support.service = "AWSSupportBusiness";
    assert_eq!(f.matches(&support), Ok(false));
    assert_eq!(f.matches(&ec2("111111111111", "data")), Ok(true));
    // No key: everything.
    let all = filter("{}");
    assert!(all.is_empty());
    assert_eq!(all.matches(&support), Ok(true));
}

#[test]
fn tags_and_cost_categories_match_per_name_and_empty_means_untagged() {
    let f = filter(r#"{"tags": {"team": ["data", "ml"]}}"#);
    assert_eq!(f.matches(&ec2("111111111111", "data")), Ok(true));
    assert_eq!(f.matches(&ec2("111111111111", "ml")), Ok(true));
    assert_eq!(f.matches(&ec2("111111111111", "web")), Ok(false));
    assert_eq!(f.matches(&ec2("111111111111", "")), Ok(false));
    let untagged = filter(r#"{"tags": {"team": [""]}}"#);
    assert_eq!(untagged.matches(&ec2("111111111111", "")), Ok(true));
    assert_eq!(untagged.matches(&ec2("111111111111", "data")), Ok(false));
    let not_untagged = filter(r#"{"not_tags": {"team": [""]}}"#);
    assert_eq!(not_untagged.matches(&ec2("111111111111", "data")), Ok(true));
    assert_eq!(not_untagged.matches(&ec2("111111111111", "")), Ok(false));
    // Two names: both must match.
    let both = filter(r#"{"tags": {"team": ["data"], "env": ["dev"]}}"#);
    assert_eq!(both.matches(&ec2("111111111111", "data")), Ok(false));
    let bu = filter(r#"{"cost_categories": {"BusinessUnit": ["Analytics"]}}"#);
    assert_eq!(bu.matches(&ec2("111111111111", "data")), Ok(true));
}

#[test]
fn a_report_without_the_column_cannot_answer_the_filter() {
    let f = filter(r#"{"tags": {"cost-center": ["42"]}}"#);
    let e = f.matches(&ec2("111111111111", "data")).unwrap_err();
    assert_eq!(
        e,
        Unanswerable {
            kind: Keyed::Tag,
            name: "cost-center".into()
        }
    );
    assert!(e.to_string().contains("activated"), "{e}");
    // Not even "untagged": the column is absent, not empty.
    let untagged = filter(r#"{"tags": {"cost-center": [""]}}"#);
    assert!(untagged.matches(&ec2("111111111111", "data")).is_err());
    let f = filter(r#"{"not_cost_categories": {"Team": ["x"]}}"#);
    let e = f.matches(&ec2("111111111111", "data")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the report has no column for cost category \"Team\""
    );
}

#[test]
fn a_filter_that_cannot_mean_anything_is_refused_naming_its_key() {
    for (json, want) in [
        (
            r#"{"account": ["111111111111"]}"#,
            "unknown key \"account\"",
        ),
        (r#"{"not_tag": {"team": ["x"]}}"#, "unknown key \"not_tag\""),
        (r#"{"services": []}"#, "filter.services: an empty list"),
        (
            r#"{"accounts": ["1111"]}"#,
            "filter.accounts: \"1111\" is not a 12-digit account id",
        ),
        (
            r#"{"not_accounts": ["11111111111a"]}"#,
            "filter.not_accounts: \"11111111111a\"",
        ),
        (
            r#"{"services": {"x": ["y"]}}"#,
            "filter.services: a list of values",
        ),
        (
            r#"{"tags": ["team"]}"#,
            "filter.tags: a table of values per name",
        ),
        (r#"{"tags": {}}"#, "filter.tags: names no tag"),
        (
            r#"{"cost_categories": {"": ["x"]}}"#,
            "an empty cost category name",
        ),
        (
            r#"{"tags": {"team": []}}"#,
            "filter.tags.team: an empty list",
        ),
    ] {
        let e = filter_err(json);
        assert!(e.contains(want), "{json}: {e}");
    }
    // Account patterns with a star are accepted.
    filter(r#"{"accounts": ["1111*"]}"#);
}

#[test]
fn a_filter_reads_back_as_it_was_written() {
    let json = r#"{"accounts":["111111111111"],"not_services":["AWSSupportBusiness"],"not_tags":{"env":["dev"]},"tags":{"team":["","data"]},"usage_types":["USE1-BoxUsage:*"]}"#;
    let f = filter(json);
    assert_eq!(serde_json::to_string(&f).unwrap(), json);
}
