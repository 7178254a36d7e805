"""The service's requests and responses: what ``/docs`` describes and FastAPI validates."""
from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ..tagger import DEFAULT_TOP
from .settings import MAX_BATCH


MAX_TOP = 100


def no_surrogates(text: str) -> str:
    """JSON may escape a lone UTF-16 surrogate (``"\\ud800"``); it is no character."""
    for index, char in enumerate(text):
        if '\ud800' <= char <= '\udfff':
            raise ValueError(f'lone surrogate U+{ord(char):04X} at character {index}')
    return text


Text = Annotated[str, AfterValidator(no_surrogates)]
Style = Literal['seed', 'lower', 'camel']


class Options(BaseModel):
    model_config = ConfigDict(extra='forbid', strict=True)

    profile: Optional[Text] = Field(None, max_length=64, description='model profile (GET /v1/profiles); '
                                    "default: the server's --profile")
    top: Optional[int] = Field(None, ge=1, le=MAX_TOP, description=f'at most N tags (default {DEFAULT_TOP})')
    least: Optional[int] = Field(None, ge=1, le=MAX_TOP, description='at least N tags where the text has them')
    style: Style = Field('seed', description='tag style: seed "Ростов-на-Дону", lower "ростов-на-дону", '
                                             'camel "РостовНаДону"')


class TagRequest(Options):
    text: Text = Field(..., description='the article (UTF-8; title on its first line, or in `title`); '
                                        'a text longer than the server limit is cut at a line or word end')
    title: Optional[Text] = Field(None, max_length=2000, description='read before the text when the text '
                                  'does not start with it')


class BatchItem(BaseModel):
    model_config = ConfigDict(extra='forbid', strict=True)

    id: Optional[str | int] = None
    text: Text
    title: Optional[Text] = Field(None, max_length=2000)


class BatchRequest(Options):
    items: list[Any] = Field(..., description=f'at most {MAX_BATCH} (the server limit) items '
                             '`{id?, text, title?}`; a bad item gets an `error`, the others are tagged')


class EvalRequest(Options):
    article: Text = Field(..., description="an article in the seed's format: title line, optional date "
                          'line, body, a line of `#gold #tags`, optional footer')
    tags: Optional[list[Text]] = Field(None, max_length=500, description='score these tags instead of '
                                       "tagging the article (an editor's edited list)")


class TagOut(BaseModel):
    text: str = Field(description='the tag in the requested style, without "#"')
    normal: str = Field(description="the tagger's normal form (style seed before capitalizing)")
    kind: str = Field(description='PER, LOC, ORG, PHRASE or TOPIC')
    score: float


class EntityOut(BaseModel):
    start: int = Field(description='offset in Unicode code points into `field` as sent')
    stop: int
    type: str = Field(description='PER, LOC or ORG')
    text: str
    normal: str = Field(description='nominative normal form')
    field: Literal['text', 'title'] = 'text'


class Tagged(BaseModel):
    tags: list[TagOut] = []
    entities: list[EntityOut] = []
    hashtags: str = Field('', description='the tags as one line of #hashtags in the requested style')
    truncated: bool = Field(False, description='the text was longer than the server limit and was cut')
    chars: int = Field(0, description='characters of the text that were tagged')


class TagResponse(Tagged):
    profile: str
    took_ms: float


class BatchResult(Tagged):
    id: Optional[str] = None
    error: Optional[str] = Field(None, description='why this item was not tagged')


class BatchResponse(BaseModel):
    profile: str
    results: list[BatchResult]
    took_ms: float


class Figures(BaseModel):
    p: float
    r: float
    f1: float


class Matched(BaseModel):
    text: str
    match: Optional[Literal['exact', 'lemma']] = Field(None, description='how it matched the other side, if it did')


class EvalResponse(TagResponse):
    text: str = Field(description='what was tagged: the article without its gold line and footer')
    gold: list[Matched]
    pred: list[Matched] = Field(description='the scored tags (the tagger\'s, or the `tags` sent)')
    exact: Figures
    lemma: Figures


class Problem(BaseModel):
    detail: str


ERRORS = {code: {'model': Problem} for code in (400, 413, 422, 503)}
