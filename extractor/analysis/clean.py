"""Dirty input made safe for the models: junk characters masked in place.

``clean_text`` never changes a text's length, so every offset found in the cleaned text
is an offset into the caller's text as well. (HTML pages are turned into text by the
readers, before a document is made: ``engines.markup``.)
"""
from __future__ import annotations

import re

# What the models must not see, one code point each (a Python str indexes code points):
# C0/C1 controls but tab and newlines, DEL, lone surrogates (pymorphy3's dictionary
# cannot encode them: UnicodeEncodeError), and everything outside the BMP (emoji, flags,
# mathematical letters), which natasha's models were not trained on.
JUNK = re.compile('[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\U00010000-\U0010ffff]')
# Line breaks of other kinds (vertical tab, form feed, file/group/record separators, NEL,
# line and paragraph separators) become '\n': they still break lines, and no tag holds one.
BREAKS = re.compile('[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]')
ANY = re.compile('|'.join((JUNK.pattern, BREAKS.pattern)))


def clean_text(text: str) -> str:
    """``text`` with each unsafe code point replaced by one space (line breaks by ``'\\n'``).

    Same length, same offsets; the very same object when there is nothing to clean.
    """
    if not ANY.search(text):
        return text
    return BREAKS.sub('\n', JUNK.sub(' ', text))
