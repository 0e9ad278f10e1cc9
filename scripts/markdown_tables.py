"""The study scripts' one way of writing numbers into the docs: each table replaces the text between
``<!-- begin:KEY -->`` and ``<!-- end:KEY -->`` in a markdown file, so the prose around it stays hand-written."""
from __future__ import annotations

import re
from pathlib import Path


def fill(md: Path, tables: dict) -> None:
    """Replace each marked block ``KEY`` of `md` with ``tables[KEY]``."""
    text = Path(md).read_text()
    for key, table in tables.items():
        text = re.sub(rf"(<!-- begin:{key} -->\n).*?(<!-- end:{key} -->)", lambda m: m.group(1) + table + "\n" + m.group(2),
                      text, flags=re.S)
    Path(md).write_text(text)
