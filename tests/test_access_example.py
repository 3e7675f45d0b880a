"""The access-control example runs as a user would run it and prints what the docs say."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "access_control.py"


def test_access_control_example(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLE)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "li (rep) sees: Acme Tools, Bright Foods\n" in out
    assert "sun (supervisor) sees: Acme Tools, Bright Foods, Cloud Nine\n" in out
    assert "chen (supervisor) sees: Acme Tools, Cloud Nine\n" in out
    assert "li's contacts: 2\n" in out
    assert "refused: 'li' may not update customer" in out
    assert "audit: li was denied update\n" in out
    assert out.rstrip().endswith("access_control: ok")
    assert list(tmp_path.iterdir()) == []
