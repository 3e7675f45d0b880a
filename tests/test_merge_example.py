"""The merge example runs as a user would run it and prints what the docs promise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "merge_duplicates.py"


def test_merge_duplicates_example(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLE)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "merged: Zhang Wei, phone 138****5678, region Shanghai" in out
    assert "merged: tags ['newsletter'], orders 2" in out
    assert "moved: {'interaction': 1, 'order': 1}" in out
    assert "unmerged: customers 2, web orders 1" in out
    assert "erased: Erased customer " in out
    assert "erased: [erased] tried the blue jacket; call [erased] when size L is in" in out
    assert "erased: orders kept, total 287.00 CNY, RFM unchanged True" in out
    assert "audit: dpo erased {'reason': [None, 'erasure request 2026-17']}" in out
    assert "13812345678" not in out
    assert out.rstrip().endswith("merge_duplicates: ok")
    assert list(tmp_path.iterdir()) == []
