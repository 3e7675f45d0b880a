"""Due times for 100k tickets: ``BusinessCalendar.add``, ``businesstimedelta``, a plain loop.

One calendar for all three: Monday to Friday, 09:00-12:00 and 13:30-18:00 in Asia/Shanghai,
closed on China's 2025-2027 public holidays (the dates the ``holidays`` package lists; no
make-up days, which ``businesstimedelta`` cannot express). Tickets start at random moments
over 2026 with random durations (1 minute to 72 working hours); every method computes the
same due times from the same inputs:

* pycrm: ``calendar.add(start, duration)`` per ticket.
* plain: a hand-written loop over the calendar's interval list precomputed as epoch seconds
  (two years of intervals, built before timing): bisect to the start's interval, then walk
  interval by interval until the duration is used up, and turn the result into an aware
  datetime. It knows nothing but this one calendar and validates nothing.
* businesstimedelta: ``start + BusinessTimeDelta(rules, timedelta=duration)`` with a
  ``WorkDayRule``, a ``LunchTimeRule`` and a ``HolidayRule``. It is slow, so it runs on a
  sample (``--sample``) and its per-ticket time is scaled to the full count.

The flatness check times pycrm and the plain loop with every duration set to 1 hour and then
to 1,000 hours. Every figure is the best of ``--runs``. The three methods' due times are
compared on the sample; disagreements are counted and printed.

Needs ``pip install businesstimedelta`` (not a pycrm dependency); without it that column is
reported as missing and the rest still runs.

Run: ``python benchmarks/bench_calendar.py [--tickets 100000] [--sample 2000] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import random
import time
from bisect import bisect_right
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays as holidays_package

from pycrm import BusinessCalendar

ZONE = "Asia/Shanghai"
TZ = ZoneInfo(ZONE)
HOURS = (("09:00", "12:00"), ("13:30", "18:00"))
Ticket = tuple[datetime, timedelta]


def holiday_dates() -> list[date]:
    listed = holidays_package.country_holidays("CN", years=range(2025, 2028))
    return sorted(day for day in listed if day.weekday() < 5)


def make_tickets(n: int, seed: int, duration: timedelta | None = None) -> list[Ticket]:
    rng = random.Random(seed)
    year_start = datetime(2026, 1, 1, tzinfo=TZ).timestamp()
    tickets = []
    for _ in range(n):
        start = datetime.fromtimestamp(year_start + rng.random() * 365 * 86400, TZ)
        start = start.replace(microsecond=0)
        d = duration or timedelta(minutes=rng.randint(1, 72 * 60))
        tickets.append((start, d))
    return tickets


class PlainLoop:
    """The calendar's intervals as epoch seconds; bisect, then walk."""

    def __init__(self, holidays: Sequence[date], first: date, days: int) -> None:
        closed = set(holidays)
        starts: list[float] = []
        ends: list[float] = []
        for offset in range(days):
            day = first + timedelta(days=offset)
            if day.weekday() >= 5 or day in closed:
                continue
            for a, b in ((9 * 60, 12 * 60), (13 * 60 + 30, 18 * 60)):
                midnight = datetime(day.year, day.month, day.day, tzinfo=TZ).timestamp()
                starts.append(midnight + a * 60)
                ends.append(midnight + b * 60)
        self.starts = starts
        self.ends = ends

    def add(self, start: datetime, duration: timedelta) -> datetime:
        t = start.timestamp()
        left = duration.total_seconds()
        i = max(bisect_right(self.starts, t) - 1, 0)
        starts, ends = self.starts, self.ends
        while True:
            begin = max(starts[i], t)
            if begin < ends[i]:
                span = ends[i] - begin
                if left <= span:
                    return datetime.fromtimestamp(begin + left, TZ)
                left -= span
            i += 1


def businesstimedelta_add() -> Callable[[datetime, timedelta], datetime] | None:
    try:
        import businesstimedelta as btd
        import pytz
    except ImportError:
        return None
    tz = pytz.timezone(ZONE)
    workday = btd.WorkDayRule(
        start_time=datetime.min.time().replace(hour=9),
        end_time=datetime.min.time().replace(hour=18),
        working_days=[0, 1, 2, 3, 4],
        tz=tz,
    )
    lunch = btd.LunchTimeRule(
        start_time=datetime.min.time().replace(hour=12),
        end_time=datetime.min.time().replace(hour=13, minute=30),
        working_days=[0, 1, 2, 3, 4],
        tz=tz,
    )
    closed = btd.HolidayRule(holiday_dates(), tz=tz)
    rules = btd.Rules([workday, lunch, closed])

    def add(start: datetime, duration: timedelta) -> datetime:
        return start + btd.BusinessTimeDelta(rules, timedelta=duration)

    return add


def best(fn: Callable[[], list[datetime]], runs: int) -> tuple[float, list[datetime]]:
    times = []
    result: list[datetime] = []
    for _ in range(runs):
        began = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - began)
    return min(times), result


def run_all(
    add: Callable[[datetime, timedelta], datetime], tickets: list[Ticket]
) -> Callable[[], list[datetime]]:
    return lambda: [add(start, d) for start, d in tickets]


def same(a: datetime, b: datetime) -> bool:
    return a.astimezone(timezone.utc) == b.astimezone(timezone.utc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    closed = holiday_dates()
    week = dict.fromkeys(range(5), HOURS)
    calendar = BusinessCalendar(ZONE, week, holidays=closed)
    plain = PlainLoop(closed, date(2026, 1, 1), 365 * 3)
    # Warm both: pycrm builds its year tables on first use, the plain list is prebuilt.
    calendar.add(datetime(2026, 1, 5, 9, tzinfo=TZ), timedelta(hours=3000))
    n = args.tickets
    tickets = make_tickets(n, seed=1)

    t_pycrm, due_pycrm = best(run_all(calendar.add, tickets), args.runs)
    t_plain, due_plain = best(run_all(plain.add, tickets), args.runs)
    mismatches = sum(not same(a, b) for a, b in zip(due_pycrm, due_plain, strict=True))
    print(f"{n:,} tickets, random starts over 2026, durations 1 min to 72 working hours")
    print(f"  pycrm              {t_pycrm:8.3f} s  {t_pycrm / n * 1e6:7.2f} us/ticket")
    print(f"  plain loop         {t_plain:8.3f} s  {t_plain / n * 1e6:7.2f} us/ticket")
    print(f"  pycrm / plain      {t_pycrm / t_plain:8.2f}x   (target <= 2x)")
    print(f"  due times differing from the plain loop: {mismatches}")

    btd_add = businesstimedelta_add()
    if btd_add is None:
        print("  businesstimedelta  MISSING: pip install businesstimedelta to compare")
    else:
        sample = tickets[: args.sample]
        t_btd, due_btd = best(run_all(btd_add, sample), 1)
        per = t_btd / len(sample)
        differing = sum(
            not same(a, b) for a, b in zip(due_pycrm[: len(due_btd)], due_btd, strict=True)
        )
        print(
            f"  businesstimedelta  {per * n:8.3f} s  {per * 1e6:7.2f} us/ticket "
            f"(measured on {len(sample):,}, scaled)"
        )
        print(f"  businesstimedelta / pycrm {per * n / t_pycrm:8.1f}x   (target >= 100x)")
        print(f"  due times differing from businesstimedelta on the sample: {differing}")

    print("flatness: every duration 1 hour, then 1,000 hours")
    for hours in (1, 1000):
        fixed = make_tickets(n, seed=2, duration=timedelta(hours=hours))
        t_p, _ = best(run_all(calendar.add, fixed), args.runs)
        t_l, _ = best(run_all(plain.add, fixed), args.runs)
        print(
            f"  {hours:5d} h  pycrm {t_p / n * 1e6:7.2f} us/ticket   "
            f"plain loop {t_l / n * 1e6:7.2f} us/ticket"
        )


if __name__ == "__main__":
    main()
