"""The Python snippets in the docs run, and do what their comments say.

Each page's ```python blocks run in order in one namespace of their own, since later blocks
on a page build on earlier ones (``crm``, ``s``, ``deal``), in an empty working directory, so
``sqlite:///crm.db`` and written files land there. Where a snippet states a result, the page
says it with an ``assert``, which this run checks.

The convention the pages follow (docs/index.md tells readers):

- ``crm`` is given: an open ``CRM.memory()`` whose clock stands at 09:30 UTC on 2 March
  2026 (``SNIPPET_START``), as concept pages take it. A page that opens its own replaces it.
  Nothing else is given, imports included, so a missing import fails here as it would for
  a reader.
- A few pages take stored records as given (a ``customer`` to open tickets for, a won
  ``deal``): ``PAGE_SETUP`` makes them, by page.
- Files a snippet reads (a CSV to import) are written by ``PAGE_FILES`` first.
- A block that cannot run here (it imports the host's own package, needs a PostgreSQL
  server, a network, an installed plugin, or is a fragment such as a hook implementation
  shown without its class) has ``<!-- snippet: not run, <reason> -->`` on the line before its
  fence, and is skipped; the reason is required.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest

from pycrm import (
    CRM,
    Contact,
    Customer,
    FixedClock,
    Money,
    Opportunity,
    Order,
    advance_opportunity,
    default_pipeline,
    deliver,
    open_opportunity,
)

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
SNIPPET_START = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
IDENTITY_KEY = "doc-snippets-identity-key"

FENCE = re.compile(r"^```(\w*)")
MARKER = re.compile(r"^<!--\s*snippet:\s*not run\b,?(.*?)-->\s*$")


@attrs.frozen
class Block:
    """One fenced ```python block: where it starts (1-based line of the fence) and its code."""

    page: Path
    line: int
    code: str
    not_run: str | None  # the reason given by a marker, "" for a marker without one

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def python_blocks(page: Path) -> list[Block]:
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        opened = FENCE.match(lines[index])
        if not opened:
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        if opened.group(1) == "python":
            marker = MARKER.match(lines[index - 1]) if index else None
            blocks.append(
                Block(
                    page=page,
                    line=index + 1,
                    code="\n".join(lines[index + 1 : end]) + "\n",
                    not_run=marker.group(1).strip() if marker else None,
                )
            )
        index = end + 1
    return blocks


def page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


PAGES_WITH_SNIPPETS = [page for page in PAGES if python_blocks(page)]


def a_customer_and_deal(crm: CRM) -> dict[str, Any]:
    """A stored company customer, Acme Tools, owned by alice, and an open deal of hers."""
    with crm.session(actor="alice") as s:
        customer = s.customers.add(Customer.company("Acme Tools", owner="alice", team="east"))
        deal, _ = open_opportunity(
            customer_id=customer.id,
            title="MES rollout, plant 2",
            amount=Money("120000.00", "CNY"),
            owner="alice",
            team="east",
            now=s.now,
            by=s.actor,
        )
        deal = s.opportunities.add(deal)
    return {"customer": customer, "deal": deal}


SALES = default_pipeline()
WINNING_STEPS = (
    ("needs_document", "needs_confirmed"),
    ("quote", "proposal"),
    (None, "negotiation"),
    ("signed_contract", "contract_signed"),
)


def won(deal: Opportunity, now: datetime) -> Opportunity:
    """``deal`` walked through the default pipeline to ``contract_signed``."""
    for deliverable, stage in WINNING_STEPS:
        if deliverable is not None:
            deal, _ = deliver(deal, deliverable, now=now)
        deal, _ = advance_opportunity(deal, stage, now=now, by="alice", machine=SALES)
    return deal


def a_won_deal(crm: CRM) -> dict[str, Any]:
    """A customer's deal, won: ``deal_id`` names it."""
    given = a_customer_and_deal(crm)
    with crm.session(actor="alice") as s:
        deal = s.opportunities.update(won(given["deal"], s.now))
    return {**given, "deal": deal, "deal_id": deal.id}


def a_sales_history(crm: CRM) -> dict[str, Any]:
    """Twenty-four closed deals to learn from, half of them won: every customer has a source
    channel, an industry and a head count, only twelve a region; and an open ``deal`` of a
    ``customer`` to score."""
    with crm.session(actor="alice") as s:
        for n in range(24):
            customer = s.customers.add(
                Customer.company(
                    f"Customer {n}",
                    source_channel=("referral", "fair", "ads")[n % 3],
                    industry=("retail", "manufacturing")[n % 2],
                    employees=(20, 250, 3000)[n % 3],
                    region="east" if n < 12 else None,
                )
            )
            deal, _ = open_opportunity(
                customer_id=customer.id,
                title=f"Deal {n}",
                amount=Money(10 ** (3 + n % 3), "CNY"),
                owner="alice",
                now=s.now,
                by=s.actor,
            )
            if n % 2 == 0:
                deal = won(deal, s.now)
            else:
                deal, _ = advance_opportunity(
                    deal, "lost", now=s.now, by="alice", machine=SALES, reason="price"
                )
            s.opportunities.add(deal)
    return a_customer_and_deal(crm)


def an_order(crm: CRM) -> dict[str, Any]:
    """A customer's paid order of 1,000 CNY."""
    given = a_customer_and_deal(crm)
    with crm.session(actor="shop") as s:
        order = s.orders.add(
            Order(
                number="SO-1001",
                customer_id=given["customer"].id,
                placed_at=s.now,
                total=Money("1000.00", "CNY"),
                status="paid",
            )
        )
    return {**given, "order": order}


def a_customer_and_contact(crm: CRM) -> dict[str, Any]:
    """A stored company customer and a contact of theirs."""
    with crm.session(actor="alice") as s:
        customer = s.customers.add(Customer.company("Acme Tools", owner="alice"))
        contact = s.contacts.add(Contact(customer_id=customer.id, name="Zhang Wei"))
    return {"customer": customer, "contact": contact}


PAGE_SETUP: dict[str, Callable[[CRM], dict[str, Any]]] = {
    "docs/concepts/contracts.md": a_customer_and_deal,
    "docs/concepts/lead-scoring.md": a_sales_history,
    "docs/concepts/loyalty.md": an_order,
    "docs/concepts/opportunities.md": a_customer_and_deal,
    "docs/concepts/sales-support.md": a_won_deal,
    "docs/concepts/service.md": a_customer_and_contact,
}
"""What a page takes as given besides ``crm``, by page: names for its namespace."""

PAGE_FILES: dict[str, dict[str, str]] = {
    "docs/concepts/import.md": {
        "members.csv": (
            "Member no,kind,Company,Joined,Labels,Internal note\n"
            "M-1001,company,Acme Tools,02/03/2026,vip|newsletter,met at the fair\n"
            "M-1002,company,Beta Print,31/02/2026,,no such day: refused\n"
        ),
    },
    "docs/concepts/intake.md": {
        "expo-leads.csv": (
            "Name,Mobile,Company,Notes\n"
            "Wang Fang,138 1234 5678,Acme Tools,Wants the spindle options\n"
            "Zhao Lei,12345,,A number no phone has\n"
        ),
    },
}
"""Files a page's snippets read, by page: written to the working directory first."""


@pytest.fixture
def doc_crm() -> Iterator[CRM]:
    crm = CRM.memory(clock=FixedClock(SNIPPET_START), identity_key=IDENTITY_KEY)
    yield crm
    crm.close()


@pytest.mark.parametrize("page", PAGES_WITH_SNIPPETS, ids=page_id)
def test_the_page_s_snippets_run(
    page: Path, doc_crm: CRM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYCRM_IDENTITY_KEY", IDENTITY_KEY)
    namespace: dict[str, Any] = {"__name__": "__doc_snippet__", "crm": doc_crm}
    for name, text in PAGE_FILES.get(page_id(page), {}).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    setup = PAGE_SETUP.get(page_id(page))
    if setup is not None:
        namespace.update(setup(doc_crm))
    try:
        for block in python_blocks(page):
            if block.not_run is not None:
                continue
            # Blank lines first, so a traceback's line number is the line on the page.
            code = compile("\n" * block.line + block.code, str(page), "exec")
            try:
                exec(code, namespace)
            except Exception as error:
                raise AssertionError(f"{block.where}: the block starting here raised") from error
    finally:
        for value in list(namespace.values()):
            if isinstance(value, CRM) and value is not doc_crm:
                value.close()


def test_every_skipped_snippet_says_why() -> None:
    skipped = [b for page in PAGES for b in python_blocks(page) if b.not_run is not None]
    assert skipped, "no snippet is marked as not run: is the marker still recognised?"
    assert all(b.not_run for b in skipped), [b.where for b in skipped if not b.not_run]


def test_every_marker_stands_right_before_a_python_block() -> None:
    """A misspelt marker, or one left behind when its block moved, would skip nothing."""
    misplaced = []
    for page in PAGES:
        lines = page.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, 1):
            if "<!-- snippet" in line and not (
                MARKER.match(line) and lines[number : number + 1] == ["```python"]
            ):
                misplaced.append(f"{page_id(page)}:{number}")
    assert misplaced == []


def test_the_pages_hold_snippets_to_run() -> None:
    blocks = [b for page in PAGES for b in python_blocks(page)]
    assert len(blocks) > 100
    assert sum(b.not_run is None for b in blocks) > 0.85 * len(blocks)
