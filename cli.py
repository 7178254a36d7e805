"""Command line: a thin layer over the ``extractor`` library.

    extractor tag samples/01_*.txt           # one line of #tags per file
    extractor eval ../shared/datasets/ng.dev.jsonl.gz --limit 100
    extractor batch archive.jsonl.gz -o tags.jsonl -j 2
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Optional, Sequence

EXAMPLES = '''examples:
  extractor tag samples/01_rostov.txt
  cat article.txt | extractor tag - --format json
  extractor eval samples/ --report report/
  extractor batch news.jsonl.gz -o tags.jsonl -j 2 --resume
'''


class CliError(Exception):
    """A problem with the user's input: printed as one line, exit status 2."""


def read_input(name: str) -> str:
    """The article text of a file (or ``-`` for stdin), gold line and footer split off."""
    from extractor.article import parse_article

    if name == '-':
        raw = sys.stdin.read()
    else:
        path = Path(name)
        if not path.exists():
            raise CliError(f'{name}: no such file')
        if path.is_dir():
            raise CliError(f'{name}: is a directory, expected an article file')
        try:
            raw = path.read_bytes().decode('utf-8-sig')
        except UnicodeDecodeError as error:
            raise CliError(f'{name}: not UTF-8 (byte {error.start}); convert it, '
                           f'or use `extractor batch`, which detects encodings') from None
        except OSError as error:
            raise CliError(f'{name}: {error.strerror}') from None
    return parse_article(raw).text


def format_doc(doc, fmt: str, style: str, name: str) -> str:
    from extractor.tags import hashtag

    if fmt == 'hashtags':
        return ' '.join(hashtag(t.text, style) for t in doc.tags)
    if fmt == 'tsv':
        return '\n'.join(f'{name}\t{hashtag(t.text, style)}\t{t.kind}\t{t.score}' for t in doc.tags)
    data = {'id': name, 'tags': [hashtag(t.text, style)[1:] for t in doc.tags],
            'kinds': [t.kind for t in doc.tags],
            'entities': [e.__dict__ for e in doc.entities]}
    return json.dumps(data, ensure_ascii=False)


def cmd_tag(args: argparse.Namespace) -> int:
    from extractor import Tagger

    texts = [(name, read_input(name)) for name in args.files]
    tagger = Tagger(profile=args.profile, top=args.top)
    for doc in tagger.pipe(texts):
        print(format_doc(doc, args.format, args.style, doc.id))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='extractor', description='Russian news articles -> normalized hashtags.',
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest='command', metavar='COMMAND')
    commands.required = True

    tag = commands.add_parser(
        'tag', help='print the tags of article files', formatter_class=argparse.RawDescriptionHelpFormatter,
        description='Tag article files (UTF-8, the seed format: title, body, optional #tags line).',
        epilog='example:\n  extractor tag samples/*.txt --style camel\n  echo "Путин прибыл в Казань." | extractor tag -')
    tag.add_argument('files', nargs='+', metavar='FILE', help='article files, or - for stdin')
    tag.add_argument('--format', choices=('hashtags', 'json', 'tsv'), default='hashtags')
    tag.add_argument('--style', choices=('seed', 'lower', 'camel'), default='seed',
                     help='seed: "#Ростов-на-Дону"; lower: "#ростов-на-дону"; camel: "#РостовНаДону"')
    tag.add_argument('--top', type=positive, default=None, help='at most N tags per article')
    tag.add_argument('--profile', default=None, help='model profile (ng, rt, default)')
    tag.set_defaults(run=cmd_tag)
    return parser


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f'must be a positive integer, not {value}')
    return number


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except CliError as error:
        print(f'extractor: error: {error}', file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print('extractor: interrupted', file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == '__main__':
    sys.exit(main())
