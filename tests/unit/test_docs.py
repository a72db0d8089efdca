"""The docs say what the code does: these fail when one changes without the other."""

from __future__ import annotations

import re
from pathlib import Path

from dingdan.domain import errors as de
from dingdan.domain.lifecycle import LABELS, mermaid
from dingdan.settings import Settings
from dingdan.web.errors import STATUS
from dingdan.web.i18n import ERRORS

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def test_lifecycle_doc_has_exactly_the_current_diagram() -> None:
    blocks = re.findall(r"```mermaid\n(.*?)\n```", _read("lifecycle.md"), re.DOTALL)
    assert blocks == [mermaid()], (
        "docs/lifecycle.md is out of date; paste the output of "
        "`python -c 'from dingdan.domain.lifecycle import mermaid; print(mermaid())'`")


def test_lifecycle_doc_names_every_status_in_both_languages() -> None:
    doc = _read("lifecycle.md")
    for status, labels in LABELS.items():
        assert f"| `{status.value}` | {labels['zh-CN']} | {labels['en']} |" in doc, status


def test_configuration_doc_lists_every_setting_and_no_other() -> None:
    settings_part = _read("configuration.md").split("## Variables that are not settings")[0]
    documented = set(re.findall(r"^\| `DINGDAN_([A-Z0-9_]+)` \|", settings_part, re.MULTILINE))
    fields = {name.upper() for name in Settings.model_fields}
    assert fields - documented == set(), "settings missing from docs/configuration.md"
    assert documented - fields == set(), "docs/configuration.md lists settings that do not exist"


def _domain_status(code: str) -> int | None:
    """The HTTP status ``web/errors.py`` gives a domain error with this code (as it maps them:
    the exact class first, else the first class it is an instance of)."""
    classes = [c for c in _subclasses(de.DomainError) if c.code == code]
    if not classes:
        return None
    cls = classes[0]
    return STATUS.get(cls) or next(s for c, s in STATUS.items() if issubclass(cls, c))


def _subclasses(cls: type[de.DomainError]) -> list[type[de.DomainError]]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


def test_api_doc_lists_every_error_code_with_its_http_status() -> None:
    rows = dict(re.findall(r"^\| `([A-Z_]+)` \| (\d{3}) \|", _read("api.md"), re.MULTILINE))
    assert set(ERRORS) - set(rows) == set(), "error codes missing from docs/api.md"
    for code, status in rows.items():
        assert code in ERRORS, f"docs/api.md lists {code}, which web/i18n.py does not know"
        expected = _domain_status(code)
        if expected is not None:
            assert int(status) == expected, code


def test_aftersales_doc_has_the_current_diagrams() -> None:
    from dingdan.domain import aftersales, complaints, refunds

    blocks = re.findall(r"```mermaid\n(.*?)\n```", _read("aftersales.md"), re.DOTALL)
    assert blocks == [aftersales.CASE.mermaid(), refunds.REFUND.mermaid(),
                      complaints.COMPLAINT.mermaid()], "docs/aftersales.md is out of date"
    for status, labels in aftersales.STATUS_LABELS.items():
        assert f"| `{status.value}` | {labels['zh-CN']} | {labels['en']} |" in \
            _read("aftersales.md"), status
