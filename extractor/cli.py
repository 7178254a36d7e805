"""Command line: a thin layer over the library (``extractor COMMAND --help``).

Each command parses its arguments, calls the library, prints or writes, and exits 0 (done),
1 (done, but some records or gold lines failed), 2 (a problem with the input, one line on
stderr), 130 (interrupted) or 143 (``batch`` stopped by SIGTERM, its summary printed).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Optional, Sequence

EXAMPLES = '''examples:
  extractor tag samples/01_spartak_rotor.txt
  cat article.txt | extractor tag - --format json
  extractor eval samples/ --report report/
  extractor batch news.jsonl.gz -o tags.jsonl -j 2 --resume
  extractor serve --workers 2
'''
BATCH_EXAMPLES = """\
examples:
  extractor batch articles/ news.jsonl.gz -o tags.jsonl -j 4
  extractor batch dump.tar.gz -o tags.parquet --title-field ''
  zcat news.jsonl.gz | extractor batch - -o tags.csv --id-field url
  extractor batch articles/ -o tags.jsonl --resume      # after a crash or Ctrl-C
  extractor batch s3://news/2024.jsonl.gz -o tags.jsonl --engine dask --scheduler tcp://10.0.0.5:8786

inputs: a directory (all *.txt below it, articles in the seed format), .txt, .jsonl[.gz|.bz2],
.csv[.gz|.bz2], .parquet, .tar[.gz|.bz2], .zip of .txt files, or - for JSONL on stdin.
Text files may be UTF-8 (with or without BOM), UTF-16, cp1251 or koi8-r.
output records: {"id", "tags": [...], "entities": [{"start","stop","type","text","normal"}]}
or {"id", "error"}; an unreadable file, folder or line is an error record naming it. The exit
status is 1 when any record failed, 130 on Ctrl-C, 143 on SIGTERM (both print the summary and
can be resumed). A Parquet output is written as parts in .NAME.parts/ beside it and merged
into NAME at the end: after a kill, --resume goes on from the parts.
"""
PROFILE_NAME = re.compile(r'[A-Za-z0-9][A-Za-z0-9_.-]*')


class CliError(Exception):
    """A problem with the user's input: printed as one line, exit status 2."""


# ---------------------------------------------------------------- the commands

def read_input(name: str) -> str:
    """The article text of a file (or ``-`` for stdin), gold line and footer split off."""
    from .engines.readers import TooLarge, article_of, read_limited

    path = Path(name)
    if name != '-' and not path.exists():
        raise CliError(f'{name}: no such file')
    if name != '-' and path.is_dir():
        raise CliError(f'{name}: is a directory, expected an article file')
    try:
        if name == '-':
            return article_of(read_limited(sys.stdin.buffer, 'stdin')).text
        with open(path, 'rb') as file:
            return article_of(read_limited(file, name)).text
    except (UnicodeDecodeError, TooLarge) as error:
        raise CliError(f'{name}: {error}' if isinstance(error, UnicodeDecodeError) else str(error)) from None
    except OSError as error:
        raise CliError(f'{name}: {error.strerror or error}') from None


def writable_folder(path: Path, what: str) -> Path:
    """``path``, made if needed, once a file can be written in it; else a CliError saying so
    (checked before the work, not after it)."""
    import tempfile

    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        raise CliError(f'{what} {path}: cannot write there: {error.strerror or error}') from None
    return path


def format_doc(doc, fmt: str, style: str, name: str) -> str:
    from .tags import hashtag

    if fmt == 'hashtags':
        return ' '.join(hashtag(t.text, style) for t in doc.tags)
    if fmt == 'tsv':
        return '\n'.join(f'{name}\t{hashtag(t.text, style)}\t{t.kind}\t{t.score}' for t in doc.tags)
    data = {'id': name, 'tags': [{'text': hashtag(t.text, style)[1:], 'kind': t.kind,
                                  'score': round(t.score, 4)} for t in doc.tags],
            'entities': [e.__dict__ for e in doc.entities]}
    return json.dumps(data, ensure_ascii=False)


def make_tagger(args: argparse.Namespace):
    from .tagger import Tagger

    return Tagger(profile=args.profile, least=args.least, **({'top': args.top} if args.top else {}))


def cmd_tag(args: argparse.Namespace) -> int:
    texts = [(name, read_input(name)) for name in args.files]
    names = len(args.files) > 1 if args.names is None else args.names
    for doc in make_tagger(args).pipe(texts):
        line = format_doc(doc, args.format, args.style, doc.id)
        print(f'{doc.id}\t{line}' if names and args.format == 'hashtags' else line)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from . import evaluate

    try:
        loaded = list(evaluate.read_gold(args.gold))
    except (ValueError, OSError) as error:
        raise CliError(str(error)) from None
    errors = [r for r in loaded if isinstance(r, evaluate.GoldError)]
    records = [r for r in loaded if not isinstance(r, evaluate.GoldError)][:args.limit]
    for error in errors:
        print(f'skipped {error}', file=sys.stderr)
    if not records:
        raise CliError(f'{args.gold}: no gold records')
    if args.report:
        writable_folder(Path(args.report), '--report')
    tagger = predictions = None
    if args.pred:
        try:
            predictions = evaluate.read_predictions(args.pred)
        except (ValueError, OSError) as error:
            raise CliError(str(error)) from None
    else:
        tagger = make_tagger(args)
    with progress_bar(len(records), 'tagging', disable=bool(args.pred)) as bar:
        result = evaluate.evaluate(records, tagger, predictions, progress=bar.update)
    rate = len(records) / result.seconds if tagger and result.seconds else None
    print(evaluate.format_table(result.summary, rate))
    if args.k:
        cut = evaluate.summarize((evaluate.score_document(row.pred, row.gold, evaluate.LemmaKeyer(), args.k)
                                  for row in result.rows), args.k)
        print(evaluate.format_table(cut))
    if errors:
        print(f'skipped: {len(errors)} gold records', file=sys.stderr)
    if args.report:
        try:
            evaluate.write_report(args.report, result.rows, result.summary, result.docs, errors,
                                  k=args.k)
        except OSError as error:
            raise CliError(f'--report {args.report}: {error.strerror or error}') from None
        print(f'report: {Path(args.report) / "report.html"}', file=sys.stderr)
    return 1 if errors else 0


def cmd_batch(args: argparse.Namespace) -> int:
    from .engines.batch import BatchAborted, Cluster, run_batch
    from .engines.records import Fields

    cluster = (Cluster(args.scheduler, args.partitions) if args.engine == 'dask' else None)
    try:
        summary = run_batch(args.inputs, args.output, jobs=args.jobs, resume=args.resume,
                            profile=args.profile, batch_size=args.batch_size,
                            fields=Fields(args.id_field, args.text_field, args.title_field or None),
                            cluster=cluster, progress=False if args.progress_every == 0 else None,
                            progress_every=args.progress_every)
    except BatchAborted as e:
        print(f'extractor batch: {e.summary}', file=sys.stderr)
        print(f'extractor batch: {e}', file=sys.stderr)
        return 143 if e.terminated else 130 if e.interrupted else 1
    except (OSError, ValueError, ImportError) as e:
        print(f'extractor batch: error: {e}', file=sys.stderr)
        return 2
    print(f'extractor batch: {summary}', file=sys.stderr)
    return 1 if summary.failed else 0


def cmd_train(args: argparse.Namespace) -> int:
    from .resources import ENV, checkout_models
    from .training.train import train

    for path in args.gold:
        if not Path(path).exists():
            raise CliError(f'{path}: no such file')
    if not PROFILE_NAME.fullmatch(args.profile) or args.profile in ('.', '..'):
        raise CliError(f'{args.profile!r}: a profile name is letters, digits, "_", "-" and "."')
    out = Path(args.out) if args.out else checkout_models()
    if out is None:
        raise CliError(f'not in a source checkout: give --out DIR, then tag with '
                       f'{ENV}=DIR extractor tag --profile {args.profile} ...')
    writable_folder(out, '--out' if args.out else 'the models folder')
    command = 'extractor train ' + ' '.join(args.raw_argv)
    with progress_bar(None, 'extracting') as bar:
        try:
            train(args.gold, args.profile, out, jobs=args.jobs or os.cpu_count() or 1,
                  use_all=args.all, borrow=args.borrow, house=args.house, command=command,
                  **({'folds': args.folds} if args.folds else {}),
                  **({'bag': args.bag} if args.bag else {}),
                  **({'least': args.least} if args.least else {}), once=args.once,
                  log=lambda m: print(m, file=sys.stderr),
                  progress=bar.update, cache=Path(args.cache) if args.cache else None)
        except ValueError as error:
            raise CliError(str(error)) from None
        except OSError as error:
            raise CliError(f'{error.filename or out}: {error.strerror or error}') from None
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        from .service.app import run
    except ImportError as error:
        raise CliError(f"the service needs the serve extra ({error.name} is missing): "
                       f"pip install -e '.[serve]'") from None
    from .resources import ModelNotFound

    try:
        run(host=args.host, port=args.port, workers=args.workers, access_log=args.access_log,
            profile=args.profile, max_body=args.max_body, max_chars=args.max_chars,
            max_batch=args.max_batch, max_request_chars=args.max_request_chars,
            max_queue=args.max_queue, max_queue_bytes=args.max_queue_bytes,
            read_timeout=args.read_timeout, allowed_hosts=args.allowed_hosts)
    except ModelNotFound as error:
        raise CliError(str(error)) from None
    return 0


def progress_bar(total: Optional[int], desc: str, disable: bool = False):
    """A tqdm bar on a terminal, nothing otherwise."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit='doc', disable=disable or not sys.stderr.isatty())


# ---------------------------------------------------------------- the parser

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='extractor', description='Russian news articles -> normalized hashtags.',
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest='command', metavar='COMMAND')
    commands.required = True
    for add in (add_tag, add_eval, add_batch, add_train, add_serve):
        add(commands)
    return parser


def add_limits(parser: argparse.ArgumentParser) -> None:
    """``--top``, ``--least``, ``--profile``: how many tags, in whose style."""
    parser.add_argument('--top', type=positive, default=None,
                        help="at most N tags per article (default 40; the profile's learned cut "
                             "decides how many below that)")
    parser.add_argument('--least', type=positive, default=None,
                        help="at least N tags per article where it has them (default: the "
                             "profile's learned count; for a site that tags generously)")
    parser.add_argument('--profile', default=None,
                        help="model profile: default (the seed's style, for a site with no tag "
                             "archive), ng, rt (those sites' own styles)")


def add_tag(commands) -> None:
    tag = commands.add_parser(
        'tag', help='print the tags of article files', formatter_class=argparse.RawDescriptionHelpFormatter,
        description='Tag article files (the seed format: title, body, optional #tags line; UTF-8, '
                    'UTF-16, cp1251 or koi8-r; an HTML page is read as its text).',
        epilog='examples:\n  extractor tag samples/01_spartak_rotor.txt\n'
               '  extractor tag samples/*.txt --style camel     # FILE<TAB>#tags, a line per file\n'
               '  extractor tag samples/01_spartak_rotor.txt --format json --top 5\n'
               '  echo "Путин прибыл в Казань." | extractor tag -')
    tag.add_argument('files', nargs='+', metavar='FILE', help='article files, or - for stdin')
    tag.add_argument('--format', choices=('hashtags', 'json', 'tsv'), default='hashtags',
                     help='hashtags: a line of #tags per file (default); json: an object per '
                          'file, {"id", "tags": [{"text", "kind", "score"}], "entities": '
                          '[{"start", "stop", "type", "text", "normal"}]}, tags best first; '
                          'tsv: a row per tag, FILE<TAB>#tag<TAB>kind<TAB>score')
    tag.add_argument('-H', '--with-names', dest='names', action='store_true', default=None,
                     help='hashtags: start each line with its file name and a tab (the default '
                          'for more than one file)')
    tag.add_argument('--no-names', dest='names', action='store_false',
                     help='hashtags: bare lines of #tags, even for several files')
    tag.add_argument('--style', choices=('seed', 'lower', 'camel'), default='seed',
                     help='seed: "#Ростов-на-Дону"; lower: "#ростов-на-дону"; camel: "#РостовНаДону"')
    add_limits(tag)
    tag.set_defaults(run=cmd_tag)


def add_eval(commands) -> None:
    ev = commands.add_parser(
        'eval', help='score tags against gold tags', formatter_class=argparse.RawDescriptionHelpFormatter,
        description='Score tags against gold tags: exact and lemma P/R/F1, macro (per article, '
                    'averaged)\nand micro (summed). Without --pred the gold documents are tagged '
                    'here.\n\nTwo tags match when their keys are equal: lower case, ё as е, one '
                    'hyphen for any dash,\nno quotes or brackets, spaces squeezed; "lemma" also '
                    'pairs tags whose words have the same\nnormal forms (транспортной '
                    'инфраструктуры = транспортная инфраструктура). The full rules:\n'
                    'docs/PROTOCOL.md; how gold tags are written: docs/SEED-STYLE.md (both in the '
                    'repository).',
        epilog='examples:\n  extractor eval samples/                       # the articles\' own #tags lines\n'
               '  extractor eval gold.jsonl.gz --limit 200 --report report/ --k 10\n'
               '  extractor eval gold.jsonl.gz --pred tags.jsonl  # score tags made elsewhere')
    ev.add_argument('gold', metavar='GOLD', help='.jsonl / .jsonl.gz with id, title, text, tags; '
                    'or a folder (or file) of articles with a #tags line')
    ev.add_argument('--pred', metavar='PRED.jsonl', help='score these predictions (id, tags) instead')
    ev.add_argument('--limit', type=positive, default=None, help='only the first N gold records')
    ev.add_argument('--report', metavar='DIR', help='write documents.csv, summary.json, report.html')
    ev.add_argument('--k', type=positive, default=None, help='also print the @K figures')
    add_limits(ev)
    ev.set_defaults(run=cmd_eval)


def add_batch(commands) -> None:
    batch = commands.add_parser(
        'batch', help='tag an archive on every core (resumable)', epilog=BATCH_EXAMPLES,
        description='Tag many documents into one JSONL, CSV or Parquet file.',
        formatter_class=argparse.RawDescriptionHelpFormatter)
    batch.add_argument('inputs', nargs='+', metavar='INPUT',
                       help='directories, files or archives to tag; - reads JSONL on stdin')
    batch.add_argument('-o', '--output', required=True, metavar='OUTPUT',
                       help='.jsonl, .jsonl.gz, .csv or .parquet')
    batch.add_argument('-j', '--jobs', type=int, default=None, metavar='N',
                       help=f'worker processes (default: CPU count, {os.cpu_count()} here); '
                            '1 tags in this process')
    batch.add_argument('--resume', action='store_true',
                       help='skip ids already in OUTPUT and append the rest')
    batch.add_argument('--profile', default=None, metavar='NAME', help='tagger profile')
    batch.add_argument('--id-field', default=None, metavar='F',
                       help="id field of JSONL/CSV/Parquet records (default: id, else "
                            "<file>:<line>)")
    batch.add_argument('--text-field', default='text', metavar='F',
                       help='text field (default: text)')
    batch.add_argument('--title-field', default='title', metavar='F',
                       help="title field, tagged before the text (default: title; '' for none)")
    batch.add_argument('--batch-size', type=int, default=32, metavar='N',
                       help='documents per chunk sent to a worker (default: 32)')
    batch.add_argument('--engine', choices=('local', 'dask'), default='local',
                       help='local: a process pool here (default); dask: a Dask cluster '
                            '(pip install "extractor[dask]")')
    batch.add_argument('--scheduler', default=None, metavar='ADDRESS',
                       help='dask: the scheduler to connect to (tcp://host:8786); default: '
                            'a local cluster of -j worker processes')
    batch.add_argument('--partitions', type=int, default=None, metavar='N',
                       help='dask: chunks (partitions of --batch-size documents) in flight at '
                            'once (default: 2 per worker thread)')
    batch.add_argument('--progress-every', type=seconds, default=30.0, metavar='S',
                       help='where stderr is not a terminal (a log, a pipe), a progress line '
                            'every S seconds (default: 30; 0: none); on a terminal the line '
                            'is redrawn in place: done, total, %%, docs/s, ETA')
    batch.set_defaults(run=cmd_batch)


def add_train(commands) -> None:
    tr = commands.add_parser(
        'train', help="fit a model profile from a site's tagged articles",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Learn the ranker and the house-tag classifier of a site from its tagged "
                    "articles; writes models/NAME/ of this checkout, or --out DIR/NAME/. By "
                    "default only the train side of a split by duplicate group is used, so "
                    "`extractor eval` on the rest is honest.",
        epilog='examples:\n  extractor train site.jsonl.gz --profile mysite\n'
               '  extractor train ng.jsonl.gz rt.jsonl.gz --profile mine --out profiles/ -j 2')
    tr.add_argument('gold', nargs='+', metavar='GOLD',
                    help='.jsonl(.gz) with id, title, text, tags; several files are several sites, '
                         'and the profile learns which one an article resembles')
    tr.add_argument('--profile', required=True, help='name of the profile to write')
    tr.add_argument('--out', metavar='DIR', help='folder of profiles (default: models/ of this '
                    'checkout; needed for an installed package)')
    tr.add_argument('-j', '--jobs', type=positive, default=None, help='processes (default: all cores)')
    tr.add_argument('--all', action='store_true', help='train on every document, no held-out side')
    tr.add_argument('--folds', type=fold_count, default=None, metavar='K',
                    help='out-of-fold rounds that make the rows and tune the cut (2-10, default 3); '
                         'more: each round\'s archive closer to the whole, longer training')
    tr.add_argument('--bag', type=positive, default=None, metavar='N',
                    help='tree ensembles averaged (default 4): more are steadier from fit to fit, '
                         'fewer tag faster')
    tr.add_argument('--least', type=positive, default=None, metavar='N',
                    help="the cut's floor: at least N tags (default: tuned out of fold among 1-12); "
                         '1: a short text gets only the tags it names')
    tr.add_argument('--once', action='store_true',
                    help='each thing once: a tag that only repeats a likelier one (an abbreviation beside '
                         'the full name, a name without its tail) gives way to the next (the seed style)')
    tr.add_argument('--cache', metavar='DIR', help='keep extracted candidates here, to reuse across profiles')
    tr.add_argument('--no-borrow', dest='borrow', action='store_false',
                    help="tag only what the article names and the house tags: similar articles vote "
                         "but propose no tags of their own (for a profile meant for other sites)")
    tr.add_argument('--no-house', dest='house', action='store_false',
                    help="no classifier over the site's frequent tags; with --no-borrow too, "
                         "every tag is one the article names (what another site can use)")
    tr.set_defaults(run=cmd_train)


def add_serve(commands) -> None:
    sv = commands.add_parser(
        'serve', help='the HTTP API and the editor\'s page', formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Serve the tagger over HTTP (needs pip install -e '.[serve]'):\n"
                    '  POST /v1/tag, /v1/tag/batch, /v1/eval; GET /v1/profiles, /healthz, /readyz\n'
                    '  (200 once the models are loaded); API docs at /docs, the editor\'s page at /.\n'
                    'Each worker process loads the models once and tags on one core (BLAS threads:\n'
                    '$OPENBLAS_NUM_THREADS, default 1): more cores, more --workers.\n'
                    'Limits: a request body over --max-body bytes gets 413; a text over --max-chars\n'
                    'characters is cut at a line or word end (truncated: true); a batch over\n'
                    '--max-batch items or --max-request-chars characters gets 413. Past --max-queue\n'
                    'requests (or --max-queue-bytes of their bodies) at once, 503 with Retry-After;\n'
                    "requests' texts are tagged in turn, a job of each, so a small one never waits\n"
                    'for a big batch; a request head or body slower than --read-timeout is dropped;\n'
                    'the Host header must name the bind address (--allowed-hosts); SIGTERM drains.',
        epilog='examples:\n  extractor serve                      # http://127.0.0.1:8000/\n'
               '  extractor serve --workers 2 --port 8080 --profile ng')
    sv.add_argument('--host', default='127.0.0.1', help='address to bind (default: 127.0.0.1, this machine only)')
    sv.add_argument('--port', type=positive, default=8000, help='port (default: 8000)')
    sv.add_argument('--workers', type=positive, default=1, help='worker processes, each with its own models')
    sv.add_argument('--profile', default=None, help='profile used when a request names none (default: default)')
    sv.add_argument('--max-body', type=positive, default=2 * 1024 * 1024, metavar='BYTES',
                    help='request body cap, 413 above it (default: 2097152)')
    sv.add_argument('--max-chars', type=positive, default=100_000, metavar='N',
                    help='characters of one text that are tagged (default: 100000)')
    sv.add_argument('--max-batch', type=positive, default=32, metavar='N',
                    help='items of one /v1/tag/batch request (default: 32)')
    sv.add_argument('--max-request-chars', type=positive, default=1_000_000, metavar='N',
                    help='characters one request may have tagged, all its texts (default: 1000000)')
    sv.add_argument('--max-queue', type=positive, default=32, metavar='N',
                    help='requests being read, waiting or tagged at once per worker; 503 past it '
                         '(default: 32)')
    sv.add_argument('--max-queue-bytes', type=positive, default=16 * 1024 * 1024, metavar='BYTES',
                    help='their bodies in memory at once per worker; 503 past it (default: 16777216)')
    sv.add_argument('--read-timeout', type=positive, default=20, metavar='S',
                    help="seconds for a request's head, and again for its body (default: 20)")
    sv.add_argument('--allowed-hosts', default=None, metavar='H,H',
                    help='names the Host header may give (default: the bind address; for a '
                         "loopback one, also localhost; '*' for any)")
    sv.add_argument('--access-log', action='store_true', help="print uvicorn's line per request")
    sv.set_defaults(run=cmd_serve)


def fold_count(value: str) -> int:
    number = int(value)
    if not 2 <= number <= 10:
        raise argparse.ArgumentTypeError(f'must be between 2 and 10, not {value}')
    return number


def seconds(value: str) -> float:
    number = float(value)
    if not number >= 0 or number == float('inf'):
        raise argparse.ArgumentTypeError(f'must be a number of seconds, 0 or more, not {value}')
    return number


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f'must be a positive integer, not {value}')
    return number


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``extractor COMMAND ...``; the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.raw_argv = list(sys.argv[1:] if argv is None else argv)[1:]
    from .resources import ProfileError

    try:
        return args.run(args)
    except (CliError, FileNotFoundError, ProfileError) as error:
        print(f'extractor: error: {error}', file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print('extractor: interrupted', file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == '__main__':
    sys.exit(main())
