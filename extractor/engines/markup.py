"""HTML pages turned into their visible text, for readers, before a document is made."""
from __future__ import annotations

import re
from html.parser import HTMLParser


HTML_HINT = re.compile(r'<(?:!doctype|html|body|p|div|br|table|article|script|style)\b', re.I)
HTML_TAG = re.compile(r'</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>')


def looks_like_html(text: str) -> bool:
    """A cheap guess from the first 64 KB: an HTML page or fragment rather than plain text."""
    head = text[:65536]
    if '<' not in head:
        return False
    return bool(HTML_HINT.search(head)) or len(HTML_TAG.findall(head, 0, 8192)) >= 4


# Elements whose content is never shown (<head> is not one: its <title> is the headline).
HIDDEN = frozenset({'script', 'style', 'noscript', 'template', 'svg', 'math', 'iframe',
                    'object', 'select'})
BLOCK = frozenset({
    'address', 'article', 'aside', 'blockquote', 'body', 'br', 'caption', 'dd', 'details',
    'dialog', 'div', 'dl', 'dt', 'fieldset', 'figcaption', 'figure', 'footer', 'form', 'h1',
    'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'html', 'li', 'main', 'nav', 'ol', 'p',
    'pre', 'section', 'summary', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'title',
    'tr', 'ul'})
VOID = frozenset({'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link',
                  'meta', 'param', 'source', 'track', 'wbr'})
SPACES = re.compile(r'[ \t\r\n\f\v]+')


class _Text(HTMLParser):
    """Collects the visible text: hidden elements skipped, blocks on lines of their own."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)  # &laquo; &#171; &nbsp; ... decoded
        self.parts: list[str] = []
        self.hidden: list[str] = []  # open hidden elements, innermost last
        self.pre = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if self.hidden or tag in HIDDEN:
            if tag in HIDDEN:  # void tags inside hidden content are never closed
                self.hidden.append(tag)
            return
        if tag == 'pre':
            self.pre += 1
        if tag in BLOCK:
            self.parts.append('\n')

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag in BLOCK and not self.hidden:
            self.parts.append('\n')

    def handle_endtag(self, tag: str) -> None:
        if self.hidden:
            if tag in self.hidden:  # close it, and whatever was left open inside it
                del self.hidden[len(self.hidden) - 1 - self.hidden[::-1].index(tag):]
            elif tag in ('body', 'html'):  # an unclosed <svg> or <iframe> ends here
                self.hidden.clear()
            return
        if tag == 'pre' and self.pre:
            self.pre -= 1
        if tag in BLOCK:
            self.parts.append('\n')

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data if self.pre else SPACES.sub(' ', data))


def strip_html(text: str) -> str:
    """The visible text of an HTML page or fragment, standard library only.

    Scripts, styles and other hidden elements are dropped with their content, comments
    too; block elements (``p``, ``div``, ``br``, ``li``, headings, cells ...) end lines;
    inline tags vanish without a space (``Пу<b>тин</b>`` -> ``Путин``); entities are
    decoded (``&laquo;`` -> ``«``); whitespace is collapsed as a browser would. Never
    raises on malformed markup.
    """
    parser = _Text()
    try:
        parser.feed(text)
        parser.close()
    except Exception:  # noqa: BLE001 - html.parser is lenient; this is a last resort
        return SPACES.sub(' ', HTML_TAG.sub(' ', text)).strip()
    lines = (line.strip(' ') for line in ''.join(parser.parts).replace('\xa0', ' ').split('\n'))
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):  # at most one empty line in a row
            out.append(line)
    return '\n'.join(out).strip('\n')
