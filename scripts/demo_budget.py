#!/usr/bin/env python3
"""The demo's budget for one's own report (`./scripts/demo FILE`), from its `summarize --json`:

    scripts/demo_budget.py SUMMARY_JSON

prints `PERIOD SPEND CURRENCY AMOUNT ACCOUNT SERVICE`: the report's main billing period (the one
with the most rows, when a FOCUS file spans several), its largest grand total and currency,
a budget amount that puts that spend at about 62.5 % (so the 25 % and 50 % alerts fire and the
80 % one does not), and the largest account and service (for the shell's examples). A spend of
zero or less gets a budget of 1 (no alert fires; the demo says so). Decimal arithmetic only.
"""

from __future__ import annotations

import json
import sys
from decimal import ROUND_CEILING, Decimal

# spend / amount = 0.625: between the 50 % and 80 % thresholds, plainly.
SHARE = Decimal("0.625")


def main_period(summary: dict) -> dict:
    periods = summary.get("periods")
    if not periods:
        return summary
    return max(periods, key=lambda s: (s.get("rows_summed", 0), s.get("rows_read", 0)))


def budget_amount(spend: Decimal) -> Decimal:
    if spend <= 0:
        return Decimal(1)
    # To the cent, or finer for a spend under 1 (where a cent is a large share of it).
    step = Decimal("0.01") if spend >= 1 else Decimal("0.0001")
    return (spend / SHARE).quantize(step, rounding=ROUND_CEILING)


def choose(summary: dict) -> str:
    s = main_period(summary)
    grands = s.get("grand_totals") or [{"cost": "0", "currency": "USD"}]
    g = max(grands, key=lambda g: abs(Decimal(g["cost"])))
    totals = s.get("totals") or [{}]
    t = max(totals, key=lambda t: abs(Decimal(t.get("cost", "0"))))
    spend = Decimal(g["cost"])
    return " ".join(
        [
            s.get("billing_period") or "",
            str(spend),
            g["currency"],
            str(budget_amount(spend)),
            t.get("account_id", "ACCOUNT"),
            t.get("service", "SERVICE"),
        ]
    )


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        print(choose(json.load(f)))
