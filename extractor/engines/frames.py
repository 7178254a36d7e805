"""pandas DataFrames in, the same DataFrames with their tags out."""
from __future__ import annotations

from typing import Any, Optional

from .records import Fields, default_tagger, row_record, tag_chunk


def tag_dataframe(df: Any, text: str = 'text', title: Optional[str] = 'title', id: str = 'id',
                  tagger: Any = None, batch_size: int = 32) -> Any:
    """A copy of ``df`` with ``tags`` (list of str), ``entities`` (list of dict) and ``error``.

    The title column, when present, is read before the text (``article.join_title``); rows
    with no text get the error "empty text" or "missing text field"; the index gives ids when
    ``id`` is absent.
    """
    import pandas as pd

    tagger = tagger if tagger is not None else default_tagger()
    fields = Fields(id, text, title)
    columns = [c for c in (id, text, title) if c and c in df.columns]
    ids = df[id] if id in df.columns else df.index.to_series()
    records = []
    for number, (index, row) in enumerate(zip(ids, df[columns].to_dict('records')), 1):
        records.append(row_record(row, f'row {number}', str(index), fields))
    out: list[dict] = []
    for start in range(0, len(records), batch_size):
        out.extend(tag_chunk(tagger, records[start:start + batch_size], batch_size))
    result = df.copy()
    result['tags'] = [r.get('tags', []) for r in out]
    result['entities'] = [r.get('entities', []) for r in out]
    result['error'] = pd.Series([r.get('error') for r in out], index=df.index, dtype=object)
    return result
