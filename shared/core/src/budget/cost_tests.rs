use super::*;
use std::collections::BTreeMap;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// A constructed CUR line: its type, reservation, payment option, and the columns it has.
#[derive(Clone, Default)]
struct L {
    kind: &'static str,
    product: &'static str,
    arn: &'static str,
    payment: &'static str,
    figures: BTreeMap<Field, Decimal>,
}

impl L {
    fn new(kind: &'static str, unblended: &str) -> Self {
        L {
            kind,
            ..Default::default()
        }
        .with(Field::Unblended, unblended)
    }

    fn with(mut self, field: Field, value: &str) -> Self {
        self.figures.insert(field, d(value));
        self
    }

    fn arn(mut self, arn: &'static str) -> Self {
        self.arn = arn;
        self
    }
}

impl CurLine for L {
    fn line_item_type(&self) -> &str {
        self.kind
    }
    fn product_code(&self) -> &str {
        self.product
    }
    fn reservation_arn(&self) -> &str {
        self.arn
    }
    fn payment_option(&self) -> &str {
        self.payment
    }
    fn figure(&self, field: Field) -> Option<Decimal> {
        self.figures.get(&field).copied()
    }
}

fn cost(line: &L, t: CostType) -> Decimal {
    cur_cost(line, t).unwrap_or_else(|e| panic!("{}: {e}", line.kind))
}

fn total(lines: &[L], t: CostType) -> Decimal {
    lines.iter().map(|l| cost(l, t)).sum()
}

const RI: &str = "arn:aws:ec2:us-east-1:111111111111:reserved-instances/abc";

#[test]
fn cost_types_read_and_print_as_the_budgets_file_spells_them() {
    for t in CostType::ALL {
        assert_eq!(t.name().parse::<CostType>(), Ok(t));
        assert_eq!(t.to_string(), t.name());
    }
    assert_eq!(CostType::default(), CostType::Unblended);
    let e = "Amortized".parse::<CostType>().unwrap_err();
    assert!(
        e.contains("\"Amortized\"") && e.contains("net_amortized"),
        "{e}"
    );
}

#[test]
fn each_line_item_type_has_its_charge_kind() {
    use ChargeKind::*;
    for (kind, arn, product, want) in [
        ("Usage", "", "AmazonEC2", Usage),
        ("DiscountedUsage", RI, "AmazonEC2", Usage),
        ("SavingsPlanCoveredUsage", "", "AmazonEC2", Usage),
        ("SavingsPlanNegation", "", "AmazonEC2", Usage),
        ("Credit", "", "AmazonEC2", Credit),
        ("Refund", "", "AmazonS3", Refund),
        ("Tax", "", "AmazonEC2", Tax),
        ("Fee", RI, "AmazonEC2", Upfront),
        ("SavingsPlanUpfrontFee", "", "ComputeSavingsPlans", Upfront),
        ("Fee", "", "AmazonRoute53", Other),
        ("RIFee", RI, "AmazonEC2", Recurring),
        (
            "SavingsPlanRecurringFee",
            "",
            "ComputeSavingsPlans",
            Recurring,
        ),
        ("EdpDiscount", "", "AmazonEC2", Discount),
        ("PrivateRateDiscount", "", "AmazonEC2", Discount),
        ("BundledDiscount", "", "AmazonEC2", Discount),
        ("RiVolumeDiscount", "", "AmazonEC2", Discount),
        ("DistributorDiscount", "", "AmazonEC2", Discount),
        ("Usage", "", "AWSSupportBusiness", Support),
        ("Fee", "", "AWSDeveloperSupport", Support),
        ("Usage", "", "OCBPremiumSupport", Support),
        // A credit or tax on support is a credit or tax.
        ("Credit", "", "AWSSupportBusiness", Credit),
        ("Tax", "", "AWSSupportEnterprise", Tax),
        // A type AWS adds later counts as usage: it is never dropped.
        ("SomeNewLineItemType", "", "AmazonEC2", Usage),
    ] {
        assert_eq!(
            ChargeKind::of_cur(kind, product, arn),
            want,
            "{kind} {product}"
        );
    }
}

#[test]
fn each_focus_charge_has_its_kind() {
    use ChargeKind::*;
    let z = Decimal::ZERO;
    assert_eq!(
        ChargeKind::of_focus("Usage", "", "Usage-Based", "Amazon EC2", d("3")),
        Usage
    );
    assert_eq!(
        ChargeKind::of_focus("Tax", "", "Usage-Based", "Amazon EC2", d("1")),
        Tax
    );
    assert_eq!(
        ChargeKind::of_focus("Credit", "", "One-Time", "Amazon EC2", d("-1")),
        Credit
    );
    assert_eq!(
        ChargeKind::of_focus("Usage", "Correction", "One-Time", "Amazon S3", d("-2")),
        Refund
    );
    // A correction that raises the bill is not a refund.
    assert_eq!(
        ChargeKind::of_focus("Usage", "Correction", "One-Time", "Amazon S3", d("2")),
        Usage
    );
    assert_eq!(
        ChargeKind::of_focus(
            "Purchase",
            "",
            "One-Time",
            "Savings Plans for AWS Compute usage",
            z
        ),
        Upfront
    );
    assert_eq!(
        ChargeKind::of_focus("Purchase", "", "Recurring", "Amazon EC2", z),
        Recurring
    );
    assert_eq!(
        ChargeKind::of_focus("Usage", "", "Recurring", "AWS Support (Business)", d("100")),
        Support
    );
}

#[test]
fn exclusions_are_named_as_the_budgets_file_spells_them() {
    for (name, kind) in ChargeKind::EXCLUDABLE {
        assert_eq!(ChargeKind::excludable(name), Ok(kind));
    }
    let e = ChargeKind::excludable("credit").unwrap_err();
    assert!(
        e.contains("\"credit\"") && e.contains("credits, refunds"),
        "{e}"
    );
}

#[test]
fn amortized_cost_of_each_commitment_line() {
    use CostType::*;
    // Savings Plan covered usage: on demand in unblended, its plan rate in amortized.
    let covered = L::new("SavingsPlanCoveredUsage", "10").with(Field::SpEffective, "6.5");
    assert_eq!(
        (cost(&covered, Unblended), cost(&covered, Amortized)),
        (d("10"), d("6.5"))
    );
    // Its negation cancels the on-demand cost in unblended and counts nothing in amortized.
    let negation = L::new("SavingsPlanNegation", "-10");
    assert_eq!(
        (cost(&negation, Unblended), cost(&negation, Amortized)),
        (d("-10"), d("0"))
    );
    // The recurring fee: the commitment in unblended, its unused part in amortized.
    let fee = L::new("SavingsPlanRecurringFee", "24")
        .with(Field::SpTotalCommitmentToDate, "24")
        .with(Field::SpUsedCommitment, "20");
    assert_eq!(
        (cost(&fee, Unblended), cost(&fee, Amortized)),
        (d("24"), d("4"))
    );
    let upfront = L::new("SavingsPlanUpfrontFee", "8760");
    assert_eq!(cost(&upfront, Amortized), d("0"));
    // RI: discounted usage at its effective cost, the RI fee at what went unused, the upfront
    // fee at 0; a fee with no reservation is an ordinary charge.
    let discounted = L::new("DiscountedUsage", "0").with(Field::RiEffective, "0.0725");
    assert_eq!(cost(&discounted, Amortized), d("0.0725"));
    let ri_fee = L::new("RIFee", "50")
        .arn(RI)
        .with(Field::RiUnusedAmortizedUpfront, "3.10")
        .with(Field::RiUnusedRecurring, "1.90");
    assert_eq!(
        (cost(&ri_fee, Unblended), cost(&ri_fee, Amortized)),
        (d("50"), d("5.00"))
    );
    let ri_upfront = L::new("Fee", "1200").arn(RI);
    assert_eq!(
        (cost(&ri_upfront, Unblended), cost(&ri_upfront, Amortized)),
        (d("1200"), d("0"))
    );
    let domain = L::new("Fee", "12");
    assert_eq!(cost(&domain, Amortized), d("12"));
    let usage = L::new("Usage", "3.3");
    assert_eq!(cost(&usage, Amortized), d("3.3"));
}

#[test]
fn a_no_upfront_savings_plan_moves_cost_between_lines_not_in_total() {
    use CostType::*;
    // 30 of on-demand usage covered at 20 of commitment, of a 24 commitment to date.
    let month = [
        L::new("SavingsPlanCoveredUsage", "18").with(Field::SpEffective, "12"),
        L::new("SavingsPlanCoveredUsage", "12").with(Field::SpEffective, "8"),
        L::new("SavingsPlanNegation", "-18"),
        L::new("SavingsPlanNegation", "-12"),
        L::new("SavingsPlanRecurringFee", "24")
            .with(Field::SpTotalCommitmentToDate, "24")
            .with(Field::SpUsedCommitment, "20"),
        L::new("Usage", "5"),
    ];
    assert_eq!(total(&month, Unblended), d("29"));
    assert_eq!(total(&month, Amortized), d("29"));
    // Usage carries 25 of it amortized (20 + 5), the unused commitment 4.
    assert_eq!(total(&month[..4], Amortized), d("20"));
}

#[test]
fn an_all_upfront_reservation_is_spread_over_its_usage() {
    use CostType::*;
    // The month the upfront fee is paid: unblended jumps, amortized holds the month's share.
    let month = [
        L::new("Fee", "8760").arn(RI),
        L::new("DiscountedUsage", "0").with(Field::RiEffective, "700"),
        L::new("RIFee", "0")
            .arn(RI)
            .with(Field::RiUnusedAmortizedUpfront, "20")
            .with(Field::RiUnusedRecurring, "0"),
    ];
    assert_eq!(total(&month, Unblended), d("8760"));
    assert_eq!(total(&month, Amortized), d("720"));
}

#[test]
fn net_amortized_reads_the_net_columns_and_leaves_discounts_out() {
    use CostType::*;
    let covered = L::new("SavingsPlanCoveredUsage", "10")
        .with(Field::SpEffective, "6.5")
        .with(Field::NetSpEffective, "6.0");
    assert_eq!(cost(&covered, NetAmortized), d("6.0"));
    let discounted = L::new("DiscountedUsage", "0")
        .with(Field::RiEffective, "1")
        .with(Field::NetRiEffective, "0.9");
    assert_eq!(cost(&discounted, NetAmortized), d("0.9"));
    let ri_fee = L::new("RIFee", "50")
        .arn(RI)
        .with(Field::RiUnusedAmortizedUpfront, "3")
        .with(Field::NetRiUnusedAmortizedUpfront, "2.7")
        .with(Field::RiUnusedRecurring, "2")
        .with(Field::NetRiUnusedRecurring, "1.8");
    assert_eq!(cost(&ri_fee, NetAmortized), d("4.5"));
    let usage = L::new("Usage", "10").with(Field::NetUnblended, "9");
    assert_eq!(
        (cost(&usage, NetUnblended), cost(&usage, NetAmortized)),
        (d("9"), d("9"))
    );
    // The discount is in the net columns already: its own line counts nothing net.
    let edp = L::new("EdpDiscount", "-1").with(Field::NetUnblended, "-1");
    assert_eq!(
        (cost(&edp, Amortized), cost(&edp, NetAmortized)),
        (d("-1"), d("0"))
    );
}

#[test]
fn net_amortized_scales_the_unused_commitment_by_the_plans_net_to_gross_ratio() {
    let no_upfront = L {
        payment: "No Upfront",
        ..L::new("SavingsPlanRecurringFee", "24")
    }
    .with(Field::SpTotalCommitmentToDate, "24")
    .with(Field::SpUsedCommitment, "20")
    .with(Field::SpRecurringCommitment, "720")
    .with(Field::NetSpRecurringCommitment, "648");
    assert_eq!(cost(&no_upfront, CostType::NetAmortized), d("3.6"));
    let all_upfront = L {
        payment: "All Upfront",
        ..L::new("SavingsPlanRecurringFee", "0")
    }
    .with(Field::SpTotalCommitmentToDate, "24")
    .with(Field::SpUsedCommitment, "20")
    .with(Field::SpAmortizedUpfrontCommitment, "720")
    .with(Field::NetSpAmortizedUpfrontCommitment, "684");
    assert_eq!(cost(&all_upfront, CostType::NetAmortized), d("3.8"));
    // No commitment for the period in the report: the unused part as it is.
    let none = L::new("SavingsPlanRecurringFee", "0")
        .with(Field::SpTotalCommitmentToDate, "2")
        .with(Field::SpUsedCommitment, "1")
        .with(Field::SpRecurringCommitment, "0");
    assert_eq!(cost(&none, CostType::NetAmortized), d("1"));
}

#[test]
fn without_net_columns_net_is_gross() {
    let covered = L::new("SavingsPlanCoveredUsage", "10").with(Field::SpEffective, "6.5");
    assert_eq!(cost(&covered, CostType::NetAmortized), d("6.5"));
    let usage = L::new("Usage", "10");
    assert_eq!(cost(&usage, CostType::NetUnblended), d("10"));
}

#[test]
fn a_cost_the_report_cannot_answer_names_the_column_it_lacks() {
    let usage = L::new("Usage", "10");
    let e = cur_cost(&usage, CostType::Blended).unwrap_err();
    assert_eq!(
        e,
        Missing {
            cost: CostType::Blended,
            field: Field::Blended
        }
    );
    assert_eq!(
        e.to_string(),
        "blended cost needs the column lineItem/BlendedCost (CUR 2.0: line_item_blended_cost), which the report does not have"
    );
    let discounted = L::new("DiscountedUsage", "0");
    let e = cur_cost(&discounted, CostType::Amortized).unwrap_err();
    assert_eq!(e.field, Field::RiEffective);
    assert!(e.to_string().contains("reservation/EffectiveCost"), "{e}");
    // Unblended needs nothing the line does not have.
    assert_eq!(cost(&discounted, CostType::Unblended), d("0"));
}

#[test]
fn focus_answers_billed_and_effective_cost_and_refuses_the_others() {
    let (billed, effective) = (d("10"), d("6.5"));
    assert_eq!(
        focus_cost(billed, effective, CostType::Unblended),
        Ok(billed)
    );
    assert_eq!(
        focus_cost(billed, effective, CostType::Amortized),
        Ok(effective)
    );
    assert_eq!(
        focus_cost(billed, effective, CostType::NetAmortized),
        Ok(effective)
    );
    for t in [CostType::Blended, CostType::NetUnblended] {
        let e = focus_cost(billed, effective, t).unwrap_err();
        assert!(
            e.starts_with(&format!("{t} cost: FOCUS has no such column")),
            "{e}"
        );
    }
}

#[test]
fn every_field_has_a_cur1_and_a_cur2_column() {
    let mut seen = std::collections::BTreeSet::new();
    for f in Field::ALL {
        let (cur1, cur2) = f.column();
        assert!(cur1.contains('/') && !cur2.contains('/'), "{f:?}");
        // CUR 2.0's name is CUR 1.0's in snake case, category first.
        let snake: String = cur1
            .replace('/', "_")
            .chars()
            .enumerate()
            .flat_map(|(i, c)| {
                let lower = c.to_ascii_lowercase();
                if c.is_ascii_uppercase() && i > 0 {
                    vec!['_', lower]
                } else {
                    vec![lower]
                }
            })
            .collect::<String>()
            .replace("__", "_");
        assert_eq!(snake, cur2, "{f:?}");
        assert!(seen.insert(cur1), "{cur1} twice");
    }
}

#[test]
fn a_measure_leaves_out_the_kinds_it_excludes_and_costs_the_rest() {
    use std::collections::BTreeSet;
    let support = L {
        product: "AWSSupportBusiness",
        ..L::new("Fee", "100")
    };
    let month = [
        L::new("Usage", "40"),
        L::new("Credit", "-10"),
        L::new("Tax", "4.5"),
        L::new("Refund", "-2"),
        support,
        L::new("Fee", "1200").arn(RI),
        L::new("DiscountedUsage", "0").with(Field::RiEffective, "100"),
        L::new("RIFee", "10")
            .arn(RI)
            .with(Field::RiUnusedAmortizedUpfront, "0")
            .with(Field::RiUnusedRecurring, "0"),
        L::new("EdpDiscount", "-3"),
    ];
    let sum = |m: &Measure| -> Decimal { month.iter().map(|l| m.of_cur(l).unwrap()).sum() };
    let plain = Measure::default();
    assert_eq!(sum(&plain), d("1339.5"));
    let exclude = |names: &[&str]| -> BTreeSet<ChargeKind> {
        names
            .iter()
            .map(|n| ChargeKind::excludable(n).unwrap())
            .collect()
    };
    // AWS Budgets' usual "exclude credits, refunds and tax".
    let net_of_adjustments = Measure {
        cost: CostType::Unblended,
        exclude: exclude(&["credits", "refunds", "tax"]),
    };
    assert_eq!(sum(&net_of_adjustments), d("1347"));
    // Amortized, without support and discounts: usage 40 + RI usage 100.
    let team = Measure {
        cost: CostType::Amortized,
        exclude: exclude(&["credits", "refunds", "tax", "support", "discounts"]),
    };
    assert_eq!(sum(&team), d("140"));
    // Upfront and recurring fees out of unblended: what usage alone is billed.
    let usage_only = Measure {
        cost: CostType::Unblended,
        exclude: exclude(&[
            "credits",
            "refunds",
            "tax",
            "support",
            "discounts",
            "upfront",
            "recurring",
        ]),
    };
    assert_eq!(sum(&usage_only), d("40"));
    // An excluded kind needs no column of the cost type: blended asked of a report without it
    // fails on the lines that count, not on those left out.
    let blended_tax_only = Measure {
        cost: CostType::Blended,
        exclude: exclude(&[
            "credits",
            "refunds",
            "support",
            "upfront",
            "recurring",
            "discounts",
        ]),
    };
    assert!(blended_tax_only
        .of_cur(&L::new("Credit", "-1"))
        .unwrap()
        .is_zero());
    assert!(blended_tax_only.of_cur(&L::new("Tax", "1")).is_err());
}
