#!/usr/bin/env python3
"""Budgets and commitments worked out in SQL, apart from billwatch: the differential tests of
issues 20 and 21.

    budgets_sql.py generate DIR [--seed N] [--lines N] [--month YYYY-MM]
        writes DIR/cur1.csv, DIR/cur2.csv and DIR/focus.csv: one billing month (2026-11) of
        random lines of every CUR line item type (Usage, DiscountedUsage, RIFee, RI upfront Fee,
        other Fee, SavingsPlanCoveredUsage, SavingsPlanNegation, SavingsPlanRecurringFee of each
        payment option, SavingsPlanUpfrontFee, Credit, Refund, Tax, discounts) and FOCUS charge
        categories, over accounts, services, regions, usage types, operations, tags (some lines
        untagged), cost categories, two currencies and usage units. CUR 2.0 carries tags and
        cost categories in its map columns, FOCUS in JSON; the three files are the same lines.

    budgets_sql.py expect DIR/FILE BUDGETS.json
        prints, as JSON, each budget's spend in its currency (or its unit): {name: "decimal"}, or
        {name: null} where the format has no such cost. DuckDB reads the file; each cost type,
        charge kind and filter is written in SQL from ../shared/reference/finops-costs.md, not
        from billwatch's code.

    budgets_sql.py commitments DIR/FILE
        prints, as JSON, each commitment's [committed, used, unused cost] by ARN and each
        service family's coverage sums [Savings Plans covered on-demand cost, on-demand cost,
        reserved hours, on-demand hours], from a CUR 1.0 or 2.0 file, in SQL.

BUDGETS.json: a list of {"name", "cost", "exclude": [...], "filter": {...}, "unit", "currency"},
the filter as in the budgets file ([budget.filter]).
"""
import csv
import json
import os
import random
import sys

MONTH = "2026-11"  # the billing month written (generate --month)
ACCOUNTS = ["111111111111", "222222222222", "333333333333"]
SERVICES = [
    ("AmazonEC2", "Amazon Elastic Compute Cloud", "USE1-BoxUsage:m5.large", "RunInstances", "Hrs"),
    ("AmazonEC2", "Amazon Elastic Compute Cloud", "USW2-BoxUsage:c6g.xlarge", "RunInstances:0002", "Hrs"),
    ("AmazonRDS", "Amazon Relational Database Service", "USE1-InstanceUsage:db.r5.large", "CreateDBInstance", "Hrs"),
    ("AmazonS3", "Amazon Simple Storage Service", "USE1-TimedStorage-ByteHrs", "StandardStorage", "GB-Mo"),
    ("AmazonS3", "Amazon Simple Storage Service", "USW2-Requests-Tier1", "PutObject", "Requests"),
    ("AWSLambda", "AWS Lambda", "USE1-Lambda-GB-Second", "Invoke", "Lambda-GB-Second"),
    ("AWSSupportBusiness", "AWS Support (Business)", "Dollar", "", "Dollar"),
]
REGIONS = {"USE1": "us-east-1", "USW2": "us-west-2"}
TEAMS = ["data", "ml", "web", ""]
UNITS_BU = ["Analytics", "Research", ""]
DISCOUNTS = ["EdpDiscount", "PrivateRateDiscount", "BundledDiscount"]
SUPPORT = ("AWSSupport%", "OCBPremiumSupport", "AWSDeveloperSupport")

CUR1 = [
    "bill/BillingPeriodStartDate", "bill/PayerAccountId", "bill/InvoiceId",
    "lineItem/UsageAccountId", "lineItem/LineItemType", "lineItem/UsageStartDate",
    "lineItem/UsageEndDate", "lineItem/ProductCode", "lineItem/UsageType", "lineItem/Operation",
    "lineItem/UsageAmount", "lineItem/CurrencyCode", "lineItem/UnblendedCost",
    "lineItem/BlendedCost", "lineItem/NetUnblendedCost", "product/ProductName", "product/region",
    "pricing/unit", "reservation/ReservationARN", "reservation/EffectiveCost",
    "reservation/NetEffectiveCost", "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod",
    "reservation/NetUnusedAmortizedUpfrontFeeForBillingPeriod", "reservation/UnusedRecurringFee",
    "reservation/NetUnusedRecurringFee", "savingsPlan/SavingsPlanEffectiveCost",
    "savingsPlan/NetSavingsPlanEffectiveCost", "savingsPlan/TotalCommitmentToDate",
    "savingsPlan/UsedCommitment", "savingsPlan/RecurringCommitmentForBillingPeriod",
    "savingsPlan/NetRecurringCommitmentForBillingPeriod",
    "savingsPlan/AmortizedUpfrontCommitmentForBillingPeriod",
    "savingsPlan/NetAmortizedUpfrontCommitmentForBillingPeriod", "savingsPlan/PaymentOption",
    "pricing/publicOnDemandCost", "reservation/TotalReservedUnits", "reservation/UnusedQuantity",
    "reservation/EndTime", "savingsPlan/SavingsPlanARN", "savingsPlan/EndTime",
    "resourceTags/user:team", "costCategory/BusinessUnit",
]


def snake(name):
    """A CUR 1.0 column's CUR 2.0 name (the ones this file writes)."""
    special = {
        "bill/BillingPeriodStartDate": "bill_billing_period_start_date",
        "bill/PayerAccountId": "bill_payer_account_id",
        "bill/InvoiceId": "bill_invoice_id",
        "product/ProductName": "product_product_name",
        "product/region": "product_region_code",
        "pricing/unit": "pricing_unit",
        "reservation/ReservationARN": "reservation_reservation_a_r_n",
        "pricing/publicOnDemandCost": "pricing_public_on_demand_cost",
        "savingsPlan/SavingsPlanARN": "savings_plan_savings_plan_a_r_n",
    }
    if name in special:
        return special[name]
    group, field = name.split("/")
    prefix = {"lineItem": "line_item", "reservation": "reservation", "savingsPlan": "savings_plan"}[group]
    out = []
    for i, ch in enumerate(field):
        if ch.isupper() and i > 0 and not field[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return prefix + "_" + "".join(out)


def money(rng, top=50):
    return f"{rng.randint(0, top * 10**6) / 10**6:.6f}"


def line(rng):
    """One CUR line as a dict of CUR 1.0 columns."""
    account = rng.choice(ACCOUNTS)
    code, name, usage_type, operation, unit = rng.choice(SERVICES)
    kind = rng.choices(
        ["Usage", "DiscountedUsage", "RIFee", "RIUpfront", "Fee", "SavingsPlanCoveredUsage",
         "SavingsPlanNegation", "SavingsPlanRecurringFee", "SavingsPlanUpfrontFee", "Credit",
         "Refund", "Tax", "Discount"],
        weights=[40, 8, 3, 1, 2, 8, 6, 4, 1, 3, 2, 3, 3],
    )[0]
    if code.startswith("AWSSupport") and kind not in ("Credit", "Refund", "Tax"):
        kind = "Fee"
    day = rng.randint(1, 30)
    unblended = money(rng)
    ratio = rng.choice(["0.9", "0.95", "0.8", "1"])
    r = {c: "" for c in CUR1}
    r.update({
        "bill/BillingPeriodStartDate": f"{MONTH}-01T00:00:00Z",
        "bill/PayerAccountId": "111111111111",
        "lineItem/UsageAccountId": account,
        "lineItem/ProductCode": code,
        "product/ProductName": name,
        "lineItem/UsageType": usage_type,
        "lineItem/Operation": operation,
        "product/region": REGIONS.get(usage_type[:4], ""),
        "pricing/unit": unit,
        "lineItem/UsageAmount": f"{rng.randint(1, 10**5) / 100:.2f}",
        "lineItem/UsageStartDate": f"{MONTH}-{day:02d}T{rng.randint(0, 23):02d}:00:00Z",
        "lineItem/CurrencyCode": rng.choices(["USD", "EUR"], weights=[9, 1])[0],
        "resourceTags/user:team": rng.choice(TEAMS),
        "costCategory/BusinessUnit": rng.choice(UNITS_BU),
    })
    r["lineItem/UsageEndDate"] = r["lineItem/UsageStartDate"][:14] + "59:59Z"
    ri_n, sp_n = rng.randint(1, 5), rng.randint(1, 3)
    ri_arn = f"arn:aws:ec2:us-east-1:{account}:reserved-instances/r-{ri_n}"
    sp_arn = f"arn:aws:savingsplans::{account}:savingsplan/sp-{sp_n}"
    if kind in ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage"):
        r["pricing/publicOnDemandCost"] = money(rng, 60)
    if kind == "Usage":
        pass
    elif kind == "DiscountedUsage":
        r["reservation/ReservationARN"] = ri_arn
        r["reservation/EffectiveCost"] = unblended
        r["reservation/NetEffectiveCost"] = net(unblended, ratio)
        unblended = "0"
    elif kind == "RIFee":
        r["reservation/ReservationARN"] = ri_arn
        reserved = rng.randint(100, 74400) / 100
        r["reservation/TotalReservedUnits"] = f"{reserved:.2f}"
        r["reservation/UnusedQuantity"] = f"{rng.randint(0, int(reserved * 100)) / 100:.2f}"
        r["reservation/EndTime"] = f"2027-{ri_n:02d}-15T00:00:00Z"
        for col in ("UnusedAmortizedUpfrontFeeForBillingPeriod", "UnusedRecurringFee"):
            v = money(rng, 5)
            r[f"reservation/{col}"] = v
            r[f"reservation/Net{col}"] = net(v, ratio)
        month_long(r)
    elif kind == "RIUpfront":
        kind = "Fee"
        r["reservation/ReservationARN"] = ri_arn
        month_long(r)
    elif kind == "Fee":
        month_long(r)
    elif kind == "SavingsPlanCoveredUsage":
        r["savingsPlan/SavingsPlanARN"] = sp_arn
        r["savingsPlan/SavingsPlanEffectiveCost"] = money(rng, 30)
        r["savingsPlan/NetSavingsPlanEffectiveCost"] = net(r["savingsPlan/SavingsPlanEffectiveCost"], ratio)
    elif kind == "SavingsPlanNegation":
        unblended = "-" + unblended
    elif kind == "SavingsPlanRecurringFee":
        option = rng.choice(["No Upfront", "Partial Upfront", "All Upfront"])
        total = rng.randint(100, 10**5) / 100
        used = rng.randint(0, int(total * 100)) / 100
        r["savingsPlan/PaymentOption"] = option
        r["savingsPlan/SavingsPlanARN"] = sp_arn
        r["savingsPlan/EndTime"] = f"2028-{sp_n:02d}-01T00:00:00Z"
        r["savingsPlan/TotalCommitmentToDate"] = f"{total:.2f}"
        r["savingsPlan/UsedCommitment"] = f"{used:.2f}"
        gross = money(rng, 500)
        if option == "All Upfront":
            r["savingsPlan/AmortizedUpfrontCommitmentForBillingPeriod"] = gross
            r["savingsPlan/NetAmortizedUpfrontCommitmentForBillingPeriod"] = net(gross, ratio)
            r["savingsPlan/RecurringCommitmentForBillingPeriod"] = "0"
            r["savingsPlan/NetRecurringCommitmentForBillingPeriod"] = "0"
        else:
            r["savingsPlan/RecurringCommitmentForBillingPeriod"] = gross
            r["savingsPlan/NetRecurringCommitmentForBillingPeriod"] = net(gross, ratio)
        month_long(r)
    elif kind == "SavingsPlanUpfrontFee":
        month_long(r)
    elif kind in ("Credit", "Refund", "Discount"):
        unblended = "-" + unblended
        if kind == "Discount":
            kind = rng.choice(DISCOUNTS)
        month_long(r)
    elif kind == "Tax":
        month_long(r)
    r["lineItem/LineItemType"] = kind
    r["lineItem/UnblendedCost"] = unblended
    r["lineItem/BlendedCost"] = blend(unblended)
    r["lineItem/NetUnblendedCost"] = "0" if kind in DISCOUNTS else net(unblended, ratio)
    return r


def net(v, ratio):
    from decimal import Decimal
    return str(Decimal(v) * Decimal(ratio))


def blend(v):
    from decimal import Decimal
    return str(Decimal(v) * Decimal("1.01"))


def month_long(r):
    r["lineItem/UsageStartDate"] = f"{MONTH}-01T00:00:00Z"
    y, m = map(int, MONTH.split("-"))
    y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    r["lineItem/UsageEndDate"] = f"{y}-{m:02d}-01T00:00:00Z"


def write_cur1(path, lines):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(CUR1)
        for r in lines:
            w.writerow([r[c] for c in CUR1])


def write_cur2(path, lines):
    cols = [c for c in CUR1 if not c.startswith(("resourceTags/", "costCategory/"))]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([snake(c) for c in cols] + ["resource_tags", "cost_category"])
        for r in lines:
            tags = {"user_team": r["resourceTags/user:team"]} if r["resourceTags/user:team"] else {}
            cc = {"BusinessUnit": r["costCategory/BusinessUnit"]} if r["costCategory/BusinessUnit"] else {}
            w.writerow([r[c] for c in cols] + [json.dumps(tags), json.dumps(cc)])


FOCUS = [
    "BilledCost", "EffectiveCost", "BillingAccountId", "BillingCurrency", "BillingPeriodStart",
    "ChargeCategory", "ChargeClass", "ChargeFrequency", "ChargePeriodStart", "ChargePeriodEnd",
    "InvoiceId", "ServiceName", "SubAccountId", "x_ServiceCode", "RegionId", "x_UsageType",
    "x_Operation", "ConsumedQuantity", "ConsumedUnit", "Tags", "x_CostCategories", "ProviderName",
]


def focus_of(r):
    """The FOCUS line of a CUR line: billed is unblended, effective the amortized cost."""
    kind = r["lineItem/LineItemType"]
    category, frequency, klass = "Usage", "Usage-Based", ""
    if kind in ("Credit",) or kind in DISCOUNTS:
        category, frequency = "Credit", "One-Time"
    elif kind == "Refund":
        category, frequency, klass = "Adjustment", "One-Time", "Correction"
    elif kind == "Tax":
        category, frequency = "Tax", "One-Time"
    elif kind in ("RIFee", "SavingsPlanRecurringFee"):
        category, frequency = "Purchase", "Recurring"
    elif kind == "SavingsPlanUpfrontFee" or (kind == "Fee" and r["reservation/ReservationARN"]):
        category, frequency = "Purchase", "One-Time"
    elif kind == "Fee":
        category, frequency = "Purchase", "One-Time"
    from decimal import Decimal
    effective = {
        "SavingsPlanCoveredUsage": r["savingsPlan/SavingsPlanEffectiveCost"],
        "DiscountedUsage": r["reservation/EffectiveCost"],
        "SavingsPlanNegation": "0",
        "SavingsPlanUpfrontFee": "0",
    }.get(kind, r["lineItem/UnblendedCost"])
    if kind == "SavingsPlanRecurringFee":
        effective = str(Decimal(r["savingsPlan/TotalCommitmentToDate"]) - Decimal(r["savingsPlan/UsedCommitment"]))
    if kind == "RIFee":
        effective = str(Decimal(r["reservation/UnusedAmortizedUpfrontFeeForBillingPeriod"]) + Decimal(r["reservation/UnusedRecurringFee"]))
    if kind == "Fee" and r["reservation/ReservationARN"]:
        effective = "0"
    usage = kind in ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage")
    tags = {"user:team": r["resourceTags/user:team"]} if r["resourceTags/user:team"] else {}
    cc = {"BusinessUnit": r["costCategory/BusinessUnit"]} if r["costCategory/BusinessUnit"] else {}
    return {
        "BilledCost": r["lineItem/UnblendedCost"],
        "EffectiveCost": effective,
        "BillingAccountId": "111111111111",
        "BillingCurrency": r["lineItem/CurrencyCode"],
        "BillingPeriodStart": f"{MONTH}-01T00:00:00Z",
        "ChargeCategory": category,
        "ChargeClass": klass,
        "ChargeFrequency": frequency,
        "ChargePeriodStart": r["lineItem/UsageStartDate"],
        "ChargePeriodEnd": r["lineItem/UsageEndDate"],
        "InvoiceId": "",
        "ServiceName": r["product/ProductName"],
        "SubAccountId": r["lineItem/UsageAccountId"],
        "x_ServiceCode": r["lineItem/ProductCode"],
        "RegionId": r["product/region"],
        "x_UsageType": r["lineItem/UsageType"],
        "x_Operation": r["lineItem/Operation"],
        "ConsumedQuantity": r["lineItem/UsageAmount"] if usage else "",
        "ConsumedUnit": r["pricing/unit"] if usage else "",
        "Tags": json.dumps(tags),
        "x_CostCategories": json.dumps(cc),
        "ProviderName": "AWS",
    }


def write_focus(path, lines):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(FOCUS)
        for r in lines:
            fr = focus_of(r)
            w.writerow([fr[c] for c in FOCUS])


def generate(out, seed, n):
    rng = random.Random(seed)
    lines = [line(rng) for _ in range(n)]
    os.makedirs(out, exist_ok=True)
    write_cur1(os.path.join(out, "cur1.csv"), lines)
    write_cur2(os.path.join(out, "cur2.csv"), lines)
    write_focus(os.path.join(out, "focus.csv"), lines)


# ------------------------------------------------------------------------------ SQL

def dec(col):
    return f"COALESCE(TRY_CAST(NULLIF({col}, '') AS DECIMAL(38, 10)), 0)"


def cur_columns(flavor):
    """Column expressions of a CUR flavour: name -> SQL."""
    q = lambda c: '"' + (c if flavor == "cur1" else snake(c)) + '"'
    cols = {c: q(c) for c in CUR1 if not c.startswith(("resourceTags/", "costCategory/"))}
    if flavor == "cur1":
        cols["tag:team"] = "COALESCE(\"resourceTags/user:team\", '')"
        cols["cc:BusinessUnit"] = "COALESCE(\"costCategory/BusinessUnit\", '')"
    else:
        cols["tag:team"] = "COALESCE(json_extract_string(resource_tags, '$.user_team'), '')"
        cols["cc:BusinessUnit"] = "COALESCE(json_extract_string(cost_category, '$.BusinessUnit'), '')"
    return cols


def cur_cost(c, cost):
    t = c["lineItem/LineItemType"]
    if cost == "unblended":
        return dec(c["lineItem/UnblendedCost"])
    if cost == "blended":
        return dec(c["lineItem/BlendedCost"])
    if cost == "net_unblended":
        return dec(c["lineItem/NetUnblendedCost"])
    n = cost == "net_amortized"
    g = lambda gross, netc: dec(c[netc] if n else c[gross])
    unused = f"({dec(c['savingsPlan/TotalCommitmentToDate'])} - {dec(c['savingsPlan/UsedCommitment'])})"
    if n:
        upfront = c["savingsPlan/PaymentOption"] + " = 'All Upfront'"
        gross = f"CASE WHEN {upfront} THEN {dec(c['savingsPlan/AmortizedUpfrontCommitmentForBillingPeriod'])} ELSE {dec(c['savingsPlan/RecurringCommitmentForBillingPeriod'])} END"
        netv = f"CASE WHEN {upfront} THEN {dec(c['savingsPlan/NetAmortizedUpfrontCommitmentForBillingPeriod'])} ELSE {dec(c['savingsPlan/NetRecurringCommitmentForBillingPeriod'])} END"
        # The plan's net-to-gross ratio (the generator's are exact to two places).
        sp_fee = f"CASE WHEN {gross} = 0 THEN {unused} ELSE {unused} * CAST(ROUND(CAST({netv} AS DOUBLE) / CAST({gross} AS DOUBLE), 6) AS DECIMAL(18, 6)) END"
    else:
        sp_fee = unused
    discounts = ", ".join(f"'{d}'" for d in DISCOUNTS + ["RiVolumeDiscount", "DistributorDiscount"])
    return f"""CASE
      WHEN {t} = 'SavingsPlanCoveredUsage' THEN {g('savingsPlan/SavingsPlanEffectiveCost', 'savingsPlan/NetSavingsPlanEffectiveCost')}
      WHEN {t} = 'SavingsPlanRecurringFee' THEN {sp_fee}
      WHEN {t} IN ('SavingsPlanNegation', 'SavingsPlanUpfrontFee') THEN 0
      WHEN {t} = 'DiscountedUsage' THEN {g('reservation/EffectiveCost', 'reservation/NetEffectiveCost')}
      WHEN {t} = 'RIFee' THEN {g('reservation/UnusedAmortizedUpfrontFeeForBillingPeriod', 'reservation/NetUnusedAmortizedUpfrontFeeForBillingPeriod')}
                              + {g('reservation/UnusedRecurringFee', 'reservation/NetUnusedRecurringFee')}
      WHEN {t} = 'Fee' AND COALESCE({c['reservation/ReservationARN']}, '') <> '' THEN 0
      {"WHEN " + t + " IN (" + discounts + ") THEN 0" if n else ""}
      ELSE {g('lineItem/UnblendedCost', 'lineItem/NetUnblendedCost')}
    END"""


def cur_kind(c):
    t, code = c["lineItem/LineItemType"], c["lineItem/ProductCode"]
    support = f"({code} LIKE 'AWSSupport%' OR {code} IN ('OCBPremiumSupport', 'AWSDeveloperSupport'))"
    discounts = ", ".join(f"'{d}'" for d in DISCOUNTS + ["RiVolumeDiscount", "DistributorDiscount"])
    return f"""CASE
      WHEN {support} AND {t} NOT IN ('Credit', 'Refund', 'Tax') THEN 'support'
      WHEN {t} = 'Credit' THEN 'credits'
      WHEN {t} = 'Refund' THEN 'refunds'
      WHEN {t} = 'Tax' THEN 'tax'
      WHEN {t} = 'SavingsPlanUpfrontFee' THEN 'upfront'
      WHEN {t} = 'Fee' AND COALESCE({c['reservation/ReservationARN']}, '') <> '' THEN 'upfront'
      WHEN {t} IN ('RIFee', 'SavingsPlanRecurringFee') THEN 'recurring'
      WHEN {t} IN ({discounts}) THEN 'discounts'
      ELSE 'usage'
    END"""


def focus_columns():
    cols = {
        "account": '"SubAccountId"',
        "service": "COALESCE(NULLIF(\"x_ServiceCode\", ''), \"ServiceName\")",
        "region": '"RegionId"',
        "usage_type": '"x_UsageType"',
        "operation": '"x_Operation"',
        "tag:team": "COALESCE(json_extract_string(\"Tags\", '$.team'), json_extract_string(\"Tags\", '$.\"user:team\"'), '')",
        "cc:BusinessUnit": "COALESCE(json_extract_string(\"x_CostCategories\", '$.BusinessUnit'), '')",
        "currency": '"BillingCurrency"',
    }
    return cols


def focus_kind():
    return """CASE
      WHEN "ChargeCategory" = 'Tax' THEN 'tax'
      WHEN "ChargeCategory" = 'Credit' THEN 'credits'
      WHEN "ChargeClass" = 'Correction' AND CAST("BilledCost" AS DECIMAL(38, 10)) < 0 THEN 'refunds'
      WHEN "ServiceName" LIKE '%Support%' THEN 'support'
      WHEN "ChargeCategory" = 'Purchase' AND "ChargeFrequency" = 'One-Time' THEN 'upfront'
      WHEN "ChargeCategory" = 'Purchase' AND "ChargeFrequency" = 'Recurring' THEN 'recurring'
      ELSE 'usage'
    END"""


def condition(dims, filt):
    """The filter in SQL: every named dimension matches one of its patterns, no exclusion does."""
    keys = {"accounts": "account", "services": "service", "regions": "region",
            "usage_types": "usage_type", "operations": "operation"}

    def matches(expr, patterns):
        return "(" + " OR ".join(f"COALESCE({expr}, '') GLOB '{p}'" for p in patterns) + ")"

    parts = []
    for key, values in filt.items():
        neg = key.startswith("not_")
        base = key[4:] if neg else key
        if base in keys:
            exprs = [matches(dims[keys[base]], values)]
        else:
            prefix = "tag:" if base == "tags" else "cc:"
            exprs = [matches(dims[prefix + name], vals) for name, vals in values.items()]
        for e in exprs:
            parts.append(f"NOT {e}" if neg else e)
    return " AND ".join(parts) or "TRUE"


def expect(path, budgets):
    import duckdb
    con = duckdb.connect()
    flavor = os.path.basename(path).split(".")[0]
    con.execute(f"CREATE VIEW r AS SELECT * FROM read_csv('{path}', header=true, all_varchar=true)")
    out = {}
    for b in budgets:
        cost, unit = b.get("cost", "unblended"), b.get("unit")
        excl = b.get("exclude", [])
        if flavor == "focus":
            dims = focus_columns()
            kind = focus_kind()
            if unit:
                value = f"CASE WHEN \"ChargeCategory\" = 'Usage' AND \"ConsumedUnit\" = '{unit}' THEN {dec(chr(34) + 'ConsumedQuantity' + chr(34))} ELSE 0 END"
            elif cost == "unblended":
                value = dec('"BilledCost"')
            elif cost in ("amortized", "net_amortized"):
                value = dec('"EffectiveCost"')
            else:
                out[b["name"]] = None
                continue
        else:
            c = cur_columns(flavor)
            dims = {"account": c["lineItem/UsageAccountId"], "service": c["lineItem/ProductCode"],
                    "region": c["product/region"], "usage_type": c["lineItem/UsageType"],
                    "operation": c["lineItem/Operation"], "tag:team": c["tag:team"],
                    "cc:BusinessUnit": c["cc:BusinessUnit"], "currency": c["lineItem/CurrencyCode"]}
            kind = cur_kind(c)
            if unit:
                t = c["lineItem/LineItemType"]
                value = f"CASE WHEN {t} IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage') AND {c['pricing/unit']} = '{unit}' THEN {dec(c['lineItem/UsageAmount'])} ELSE 0 END"
            else:
                value = cur_cost(c, cost)
        where = condition(dims, b.get("filter", {}))
        if not unit:
            where += f" AND {dims['currency']} = '{b.get('currency', 'USD')}'"
        if excl and not unit:
            where += " AND " + kind + " NOT IN (" + ", ".join(f"'{k}'" for k in excl) + ")"
        total = con.execute(f"SELECT CAST(COALESCE(SUM({value}), 0) AS VARCHAR) FROM r WHERE {where}").fetchone()[0]
        out[b["name"]] = total
    print(json.dumps(out))


def commitments(path):
    """Commitments of a CUR file in SQL (finops-costs.md, "Commitments"): per Savings Plan, Σ
    TotalCommitmentToDate, Σ UsedCommitment and their difference over its recurring fee lines;
    per reservation, Σ TotalReservedUnits, Σ (TotalReservedUnits − UnusedQuantity) and Σ unused
    amortized upfront + unused recurring over its RIFee lines; coverage per service family:
    on-demand cost covered by Savings Plans and run on demand, hours covered by reservations
    and run on demand."""
    import duckdb
    con = duckdb.connect()
    flavor = os.path.basename(path).split(".")[0]
    con.execute(f"CREATE VIEW r AS SELECT * FROM read_csv('{path}', header=true, all_varchar=true)")
    c = cur_columns(flavor)
    t, code, ut = c["lineItem/LineItemType"], c["lineItem/ProductCode"], c["lineItem/UsageType"]
    out = {"commitments": {}, "coverage": {}}
    sp = con.execute(f"""SELECT {c['savingsPlan/SavingsPlanARN']},
        CAST(SUM({dec(c['savingsPlan/TotalCommitmentToDate'])}) AS VARCHAR),
        CAST(SUM({dec(c['savingsPlan/UsedCommitment'])}) AS VARCHAR),
        CAST(SUM({dec(c['savingsPlan/TotalCommitmentToDate'])} - {dec(c['savingsPlan/UsedCommitment'])}) AS VARCHAR)
        FROM r WHERE {t} = 'SavingsPlanRecurringFee' AND COALESCE({c['savingsPlan/SavingsPlanARN']}, '') <> ''
        GROUP BY 1""").fetchall()
    ri = con.execute(f"""SELECT {c['reservation/ReservationARN']},
        CAST(SUM({dec(c['reservation/TotalReservedUnits'])}) AS VARCHAR),
        CAST(SUM({dec(c['reservation/TotalReservedUnits'])} - {dec(c['reservation/UnusedQuantity'])}) AS VARCHAR),
        CAST(SUM({dec(c['reservation/UnusedAmortizedUpfrontFeeForBillingPeriod'])} + {dec(c['reservation/UnusedRecurringFee'])}) AS VARCHAR)
        FROM r WHERE {t} = 'RIFee' AND COALESCE({c['reservation/ReservationARN']}, '') <> ''
        GROUP BY 1""").fetchall()
    for arn, committed, used, unused in sp + ri:
        out["commitments"][arn] = [committed, used, unused]
    family = f"""CASE
      WHEN {code} = 'AmazonEC2' AND ({ut} LIKE '%BoxUsage%' OR {ut} LIKE '%DedicatedUsage%' OR {ut} LIKE '%HostUsage%') THEN 'ec2_compute'
      WHEN {code} IN ('AmazonECS', 'AmazonEKS') AND {ut} LIKE '%Fargate%' THEN 'fargate'
      WHEN {code} = 'AWSLambda' AND ({ut} LIKE '%Lambda-GB-Second%' OR {ut} LIKE '%Lambda-Provisioned%') THEN 'lambda'
      WHEN {code} = 'AmazonRDS' AND {ut} LIKE '%InstanceUsage%' THEN 'rds'
      WHEN {code} = 'AmazonElastiCache' AND {ut} LIKE '%NodeUsage%' THEN 'elasticache'
      WHEN {code} IN ('AmazonES', 'AmazonOpenSearchService') AND {ut} LIKE '%ESInstance%' THEN 'opensearch'
      WHEN {code} = 'AmazonRedshift' AND {ut} LIKE '%Node%' THEN 'redshift'
    END"""
    od, hours = dec(c["pricing/publicOnDemandCost"]), dec(c["lineItem/UsageAmount"])
    rows = con.execute(f"""SELECT {family} AS f,
        CAST(SUM(CASE WHEN {t} = 'SavingsPlanCoveredUsage' THEN {od} ELSE 0 END) AS VARCHAR),
        CAST(SUM(CASE WHEN {t} = 'Usage' THEN {od} ELSE 0 END) AS VARCHAR),
        CAST(SUM(CASE WHEN {t} = 'DiscountedUsage' THEN {hours} ELSE 0 END) AS VARCHAR),
        CAST(SUM(CASE WHEN {t} = 'Usage' THEN {hours} ELSE 0 END) AS VARCHAR)
        FROM r WHERE {t} IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage') AND f IS NOT NULL
        GROUP BY 1""").fetchall()
    for f, covered, on_demand, reserved_hours, on_demand_hours in rows:
        out["coverage"][f] = [covered, on_demand, reserved_hours, on_demand_hours]
    print(json.dumps(out))


def main(argv):
    if len(argv) >= 2 and argv[0] == "generate":
        seed, n = 1, 3000
        args = argv[2:]
        while args:
            flag, value, args = args[0], args[1], args[2:]
            if flag == "--seed":
                seed = int(value)
            elif flag == "--lines":
                n = int(value)
            elif flag == "--month":
                global MONTH
                MONTH = value
        generate(argv[1], seed, n)
    elif len(argv) == 2 and argv[0] == "commitments":
        commitments(argv[1])
    elif len(argv) == 3 and argv[0] == "expect":
        with open(argv[2]) as f:
            expect(argv[1], json.load(f))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
