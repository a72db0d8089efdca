"""docs/security.md shows the roles matrix as the code has it (one source: the code)."""

from __future__ import annotations

from pathlib import Path

from dingdan.domain.permissions import MATRIX, Permission, Role

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def test_the_documented_matrix_is_the_code_s() -> None:
    text = DOC.read_text("utf-8")
    table = text.split("<!-- matrix:start -->")[1].split("<!-- matrix:end -->")[0]
    lines = [ln for ln in table.strip().splitlines() if ln.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header[1:] == [r.value for r in Role]
    documented = {}
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        documented[cells[0].strip("`")] = {r for r, c in zip(Role, cells[1:], strict=True)
                                           if c == "✓"}
    assert documented == {p.value: {r for r in Role if p in MATRIX[r]} for p in Permission}
