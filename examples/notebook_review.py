# %% [markdown]
# # Monthly review, notebook style
#
# A script in cells (``# %%``): open it in Jupyter (with jupytext), VS Code or PyCharm and
# run the cells one by one, or run it whole with ``python examples/notebook_review.py``.
# It scripts what an analyst does at the start of a month: import the shop's customers and
# orders from CSV into a scratch SQLite file, regrade everyone, score RFM, export one RFM
# segment for a campaign, read the month's reports as tables and DataFrames, and save the
# figures. Needs the ``pandas`` and ``plots`` extras.

# %%
from __future__ import annotations

import csv
import random
import tempfile
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from pycrm import CRM, FixedClock, Period, abc_scheme, mask_phone
from pycrm.analytics import plots
from pycrm.analytics.diagnosis import findings
from pycrm.io import csv_safe, import_records

NOW = datetime(2026, 7, 1, 9, 0, tzinfo=timezone.utc)
TZ = "Asia/Shanghai"
JUNE = Period.parse("2026-06", TZ)
REGIONS = ("north", "east", "south", "west")
CHANNELS = ("web", "wechat", "referral", "fair")


def write_export(folder: Path, rng: random.Random) -> tuple[Path, Path]:
    """The shop system's export: 200 customers and a year of their orders, as CSV."""
    customers, orders = folder / "customers.csv", folder / "orders.csv"
    with customers.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["member_id", "kind", "name", "region", "source_channel", "phone", "captured_at"]
        )
        for n in range(200):
            # Signed up over the last year; orders below start after that, roughly.
            captured = NOW - timedelta(days=365 - n * 365 // 200, hours=rng.randrange(24))
            writer.writerow(
                [
                    f"M{n:04d}",
                    "company" if n % 4 == 0 else "person",
                    f"Customer {n:03d}",
                    rng.choice(REGIONS),
                    rng.choice(CHANNELS),
                    f"138{n:08d}",
                    captured.isoformat(),
                ]
            )
    with orders.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["number", "customer_member_id", "placed_at", "total_amount", "status"])
        number = 0
        for n in range(200):
            # Regulars buy monthly, most a few times a year, some stopped in the spring.
            habit = rng.choice(("regular", "occasional", "occasional", "lapsed"))
            count = {"regular": 12, "occasional": rng.randint(1, 4)}.get(habit, 3)
            last = NOW - timedelta(days=100 if habit == "lapsed" else 0)
            for _ in range(count):
                placed = last - timedelta(minutes=rng.randrange(300 * 24 * 60))
                status = "refunded" if rng.random() < 0.04 else "fulfilled"
                amount = Decimal(rng.randint(50_00, 5_000_00)) / 100
                writer.writerow(
                    [f"SO{number:05d}", f"M{n:04d}", placed.isoformat(), amount, status]
                )
                number += 1
    return customers, orders


folder = Path(tempfile.mkdtemp(prefix="pycrm-review-"))
crm = CRM.open(
    f"sqlite:///{(folder / 'review.db').as_posix()}",
    clock=FixedClock(NOW),
    identity_key="example key, not for real data",
)

# %% [markdown]
# ## Import

# %%
customers_csv, orders_csv = write_export(folder, random.Random(8))
imported = import_records(crm, "customers", customers_csv, key="member_id")
print(f"imported {imported.summary()}")
orders = import_records(crm, "orders", orders_csv, currency="CNY")
print(f"imported {orders.summary()}")

# %% [markdown]
# ## Regrade and RFM

# %%
regraded = crm.regrade(abc_scheme(key_spend=20_000, regular_spend=5_000), actor="analyst")
print(f"regrade: {regraded}")
rfm = crm.rfm(JUNE.end, currency="CNY")
print(f"RFM: {len(rfm)} customers scored as of {rfm.as_of:%Y-%m-%d}")
for summary in rfm.summary():
    print(f"  {summary.segment:<20} {summary.customers:>4} customers")

# %% [markdown]
# ## Export a segment for a campaign
#
# The customers RFM calls at risk, personal data masked and cells safe to open in a
# spreadsheet, for the win-back mailing.

# %%
at_risk = [row.customer_id for row in rfm.segmented() if row.segment == "at risk"]
with crm.session(actor="analyst") as s:
    found = s.customers.get_many(at_risk)
segment_csv = folder / "at-risk.csv"
with segment_csv.open("w", encoding="utf-8", newline="") as out:
    writer = csv.writer(out)
    writer.writerow(["member_id", "name", "region", "phone"])
    for customer_id in at_risk:
        customer = found[customer_id]
        cells = [customer.member_id, customer.name, customer.region, mask_phone(customer.phone)]
        # csv_safe: a name such as "=HYPERLINK(...)" must open as text, not as a formula.
        writer.writerow([csv_safe(cell or "") for cell in cells])
print(f"segment at risk: {len(at_risk)} customers exported to {segment_csv.name}")

# %% [markdown]
# ## The month's reports
#
# Each is a ``ReportTable``: printed as text here, an HTML table in Jupyter, and a pandas
# DataFrame with ``.to_pandas()``.

# %%
for name in ("order_value", "sales_trend", "new_customers", "retention", "rfm_segments"):
    print()
    print(crm.report(name, JUNE))

# %%
half_year = Period.parse("2026-01-01..2026-06-30", TZ)
trend = crm.report("sales_trend", half_year)
frame = trend.to_pandas()
print()
print(f"to_pandas: {len(frame)} months, revenue {frame['revenue'].sum():,.2f}")

# %% [markdown]
# ## What got worse

# %%
diagnosis = crm.report("diagnosis", JUNE)
print()
for sentence in findings(diagnosis) or ["nothing flagged"]:
    print(f"finding: {sentence}")

# %% [markdown]
# ## Figures

# %%
saved = [
    plots.save_png(plots.monthly_trends(trend), folder / "sales_trend.png"),
    plots.save_png(plots.rfm_heatmap(rfm), folder / "rfm.png"),
]
print()
print(f"figures: {', '.join(path.name for path in saved)}")

# %%
crm.close()
for path in folder.iterdir():
    path.unlink()
folder.rmdir()
print("notebook_review: ok")
