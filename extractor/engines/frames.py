"""pandas DataFrames in, the same DataFrames with their tags out."""
from __future__ import annotations

from typing import Any, Optional

from .records import Fields, default_tagger, row_record, tag_chunk

OUTPUT = ('tags', 'entities', 'error')  # the columns tag_dataframe adds, after a prefix


def output_columns(columns: Any, prefix: str = '') -> tuple[str, str, str]:
    """The names of the tags, entities and error columns for a frame of ``columns``;
    ValueError, naming the clash and the way out, when the frame already has one of them."""
    names = tuple(prefix + name for name in OUTPUT)
    clash = [name for name in names if name in columns]
    if clash:
        taken = ', '.join(repr(name) for name in clash)
        other = 'pred_' if prefix != 'pred_' else 'extractor_'
        raise ValueError(f'the DataFrame already has {taken}: tagging adds '
                         f'{", ".join(names)}; pass prefix={other!r} (columns '
                         f'{", ".join(other + name for name in OUTPUT)}) or rename yours')
    return names  # type: ignore[return-value]


def check_text_column(columns: Any, text: str) -> None:
    """ValueError naming the frame's columns when it has no ``text`` column."""
    if text not in columns:
        raise ValueError(f'the DataFrame has no text column {text!r} (its columns: '
                         f'{", ".join(map(str, columns))}); pass text=NAME')


def tag_dataframe(df: Any, text: str = 'text', title: Optional[str] = 'title', id: str = 'id',
                  tagger: Any = None, batch_size: int = 32, prefix: str = '') -> Any:
    """A copy of ``df`` with ``tags`` (list of str), ``entities`` (list of dict) and ``error``.

    The title column, when present, is read before the text (``article.join_title``); rows
    with no text get the error "empty text" or "missing text field"; the index gives ids when
    ``id`` is absent. ``prefix`` goes before the three new columns' names (``prefix='pred_'``:
    ``pred_tags``, ...); a frame that already has one of them is a ValueError, never
    overwritten, and so is a frame without the ``text`` column.
    """
    import pandas as pd

    names = output_columns(df.columns, prefix)
    check_text_column(df.columns, text)
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
    tags, entities, error = names
    result[tags] = [r.get('tags', []) for r in out]
    result[entities] = [r.get('entities', []) for r in out]
    result[error] = pd.Series([r.get('error') for r in out], index=df.index, dtype=object)
    return result


# ------------------------------------------------------------ typed columns (Dask, Parquet)

def arrow_types() -> tuple[Any, Any, Any]:
    """The pandas dtypes of the tags, entities and error columns where they must be typed
    (a Dask frame's meta, which ``to_parquet`` turns into the files' schema): lists of
    strings, lists of entity structs (``records.doc_record``'s fields), strings."""
    import pandas as pd
    import pyarrow as pa

    entity = pa.struct([('start', pa.int64()), ('stop', pa.int64()), ('type', pa.string()),
                        ('text', pa.string()), ('normal', pa.string())])
    try:
        text = pd.StringDtype(na_value=float('nan'))  # pandas 3's own str: missing is NaN
    except TypeError:  # pandas before 2.3
        text = pd.StringDtype()
    return pd.ArrowDtype(pa.list_(pa.string())), pd.ArrowDtype(pa.list_(entity)), text


def typed(result: Any, names: tuple[str, str, str]) -> Any:
    """``result`` of ``tag_dataframe`` with its three new columns in ``arrow_types``, in place."""
    import pandas as pd

    for name, dtype in zip(names, arrow_types()):
        result[name] = pd.Series(list(result[name]), index=result.index, dtype=dtype)
    return result


def typed_meta(meta: Any, names: tuple[str, str, str]) -> Any:
    """An empty frame like ``meta`` with the three new columns in ``arrow_types``."""
    import pandas as pd

    meta = meta.copy()
    for name, dtype in zip(names, arrow_types()):
        meta[name] = pd.Series([], dtype=dtype, index=meta.index)
    return meta
