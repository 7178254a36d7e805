"""The HTTP API (``extractor serve``) through FastAPI's TestClient."""
from __future__ import annotations

import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

pytest.importorskip('fastapi', reason="the serve extra is not installed (pip install -e '.[serve]')")
pytest.importorskip('httpx', reason='TestClient needs httpx (pip install -e .[test])')

with warnings.catch_warnings():  # starlette asks for httpx2, which older starlettes cannot use
    warnings.simplefilter('ignore')
    from fastapi.testclient import TestClient

from extractor import evaluate  # noqa: E402
from extractor.article import cut_text as cut, parse_article  # noqa: E402
from extractor.service.app import create_app  # noqa: E402
from extractor.service.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / 'samples' / '07_zambia_mfa_visit.txt'
LIMITS = Settings(max_body=64 * 1024, max_chars=3000, max_batch=4)
TEXT = ('Президент России Владимир Путин прибыл в Казань, где встретился с главой Татарстана '
        'Рустамом Миннихановым. Путин и Минниханов обсудили работу КАМАЗа.')


@pytest.fixture(scope='module')
def client():
    with TestClient(create_app(LIMITS)) as client:
        deadline = time.monotonic() + 120
        while client.get('/readyz').status_code != 200:
            assert time.monotonic() < deadline, 'models not loaded in time'
            time.sleep(0.1)
        yield client


def check_entities(text: str, entities: list[dict], title: str = '') -> None:
    for entity in entities:
        source = title if entity['field'] == 'title' else text
        assert source[entity['start']:entity['stop']] == entity['text']
        assert entity['type'] in ('PER', 'LOC', 'ORG') and entity['normal']


def assert_problem(response, status: int) -> str:
    assert response.status_code == status, response.text
    assert 'Traceback' not in response.text and 'File "' not in response.text
    detail = response.json()['detail']
    assert isinstance(detail, str) and detail
    return detail


def test_readyz_says_503_until_the_models_are_loaded():
    app = create_app(LIMITS)
    early = TestClient(app)  # no lifespan: the models never start loading
    assert early.get('/healthz').json() == {'status': 'ok'}
    assert_problem(early.get('/readyz'), 503)
    with TestClient(app) as started:
        deadline = time.monotonic() + 120
        while (response := started.get('/readyz')).status_code == 503:
            assert response.json()['detail'] == 'loading' and time.monotonic() < deadline
            time.sleep(0.05)
        assert response.json() == {'status': 'ready'}


def test_tag_gives_tags_entities_and_offsets_into_the_text_as_sent(client, tagger):
    text = '😀 ' + TEXT  # a character outside the BMP: offsets count code points
    data = client.post('/v1/tag', json={'text': text}).json()
    assert data['profile'] == 'default' and not data['truncated'] and data['chars'] == len(text)
    check_entities(text, data['entities'])
    assert {'PER', 'LOC'} <= {e['type'] for e in data['entities']}
    doc = tagger(text)  # the library's own answer
    assert [(t['normal'], t['kind']) for t in data['tags']] == [(t.text, t.kind) for t in doc.tags]
    assert [(e['start'], e['stop'], e['type']) for e in data['entities']] == \
        [(e.start, e.stop, e.type) for e in doc.entities]
    assert data['hashtags'] == ' '.join('#' + t['text'] for t in data['tags'])
    assert all(t['kind'] in ('PER', 'LOC', 'ORG', 'PHRASE', 'TOPIC') for t in data['tags'])
    assert data['took_ms'] >= 0


def test_tag_reads_the_title_and_reports_its_entities_apart(client):
    title = 'Путин посетил Казань'
    data = client.post('/v1/tag', json={'text': TEXT, 'title': title}).json()
    check_entities(TEXT, data['entities'], title)
    assert {e['field'] for e in data['entities']} == {'title', 'text'}


def test_tag_options_style_top_and_profiles(client):
    camel = client.post('/v1/tag', json={'text': TEXT, 'style': 'camel'}).json()
    assert camel['tags'] and all(' ' not in t['text'] and '-' not in t['text'] for t in camel['tags'])
    lower = client.post('/v1/tag', json={'text': TEXT, 'style': 'lower', 'top': 2}).json()
    assert 0 < len(lower['tags']) <= 2 and all(t['text'] == t['text'].lower() for t in lower['tags'])
    profiles = client.get('/v1/profiles').json()
    assert profiles['default'] == 'default' and {'default', 'ng', 'rt'} <= set(profiles['profiles'])
    assert profiles['limits'] == {'max_body': 64 * 1024, 'max_chars': 3000, 'max_batch': 4,
                                  'max_request_chars': LIMITS.max_request_chars}
    for name in profiles['profiles']:
        assert client.post('/v1/tag', json={'text': TEXT, 'profile': name}).json()['profile'] == name
    detail = assert_problem(client.post('/v1/tag', json={'text': TEXT, 'profile': 'nope'}), 422)
    assert 'nope' in detail and 'default' in detail


def test_an_over_long_text_is_cut_as_the_library_cuts_it(client):
    text = ' '.join([TEXT] * 40)
    data = client.post('/v1/tag', json={'text': text}).json()
    assert data['truncated'] and data['chars'] == cut(text, LIMITS.max_chars) <= LIMITS.max_chars
    assert all(e['stop'] <= data['chars'] for e in data['entities'])
    check_entities(text, data['entities'])


def test_batch_tags_in_order_with_an_error_per_bad_item(client):
    items = [{'id': 'a', 'text': TEXT}, {'id': 'b', 'text': 5}, 'junk',
             {'id': 7, 'text': 'Мэр Москвы Сергей Собянин открыл станцию метро.', 'title': 'Метро'}]
    data = client.post('/v1/tag/batch', json={'items': items, 'style': 'lower'}).json()
    results = data['results']
    assert [r['id'] for r in results] == ['a', 'b', None, '7']
    assert [bool(r['error']) for r in results] == [False, True, True, False]
    assert 'text' in results[1]['error'] and not results[1]['tags']
    for item, result in zip(items, results):
        if not result['error']:
            single = client.post('/v1/tag', json={'text': item['text'], 'title': item.get('title'),
                                                  'style': 'lower'}).json()
            assert result['hashtags'] == single['hashtags'] and result['entities'] == single['entities']
    detail = assert_problem(client.post('/v1/tag/batch', json={'items': [{'text': 'x'}] * 5}), 413)
    assert '4' in detail
    assert client.post('/v1/tag/batch', json={'items': []}).json()['results'] == []
    assert_problem(client.post('/v1/tag/batch', json={'items': {'text': 'x'}}), 422)


def test_eval_scores_as_extractor_eval_does(client, tagger):
    raw = SAMPLE.read_text(encoding='utf-8')
    data = client.post('/v1/eval', json={'article': raw}).json()
    record, = evaluate.read_gold(SAMPLE)
    expected = evaluate.evaluate([record], tagger).summary
    assert data['exact']['f1'] == pytest.approx(expected.exact.macro_f1, abs=1e-4)
    assert data['lemma']['f1'] == pytest.approx(expected.lemma.macro_f1, abs=1e-4)
    assert [g['text'] for g in data['gold']] == record.tags
    assert [p['text'] for p in data['pred']] == [t['normal'] for t in data['tags']]
    assert '#' not in data['text'].splitlines()[-1] and raw.startswith(data['text'])
    check_entities(data['text'], data['entities'])
    hits = sum(1 for p in data['pred'] if p['match'] == 'exact')
    assert data['exact']['p'] == pytest.approx(hits / len(data['pred']), abs=1e-4)


def test_eval_scores_an_edited_list_without_tagging(client):
    raw = SAMPLE.read_text(encoding='utf-8')
    gold = parse_article(raw).tags
    tags = ['замбия', 'Москвы', 'Совсем другой тег']
    data = client.post('/v1/eval', json={'article': raw, 'tags': tags}).json()
    score = evaluate.score_document(tags, gold, evaluate.LemmaKeyer())
    assert (data['exact']['p'], data['lemma']['r']) == (round(score.p_exact, 4), round(score.r_lemma, 4))
    assert [p['match'] for p in data['pred']] == ['exact', 'lemma', None]
    assert data['tags'] == []


def test_eval_needs_a_gold_line(client):
    detail = assert_problem(client.post('/v1/eval', json={'article': TEXT}), 422)
    assert detail.startswith('no gold line')


@pytest.mark.parametrize('body, content_type, status', [
    (b'{"text": ', 'application/json', 422),                  # invalid JSON
    (b'{"text": "\xff\xfe"}', 'application/json', 400),        # not UTF-8
    (b'{"text": 5}', 'application/json', 422),                 # wrong type
    (b'{"text": "a", "top": "3"}', 'application/json', 422),   # a number as a string
    (b'{"text": "a", "top": 0}', 'application/json', 422),
    (b'{"text": "a", "style": "upper"}', 'application/json', 422),
    (b'{"text": "a", "colour": 1}', 'application/json', 422),  # an unknown field
    (b'{"text": "\\ud800"}', 'application/json', 422),         # a lone surrogate
    (b'["text"]', 'application/json', 422),
    (b'{"text": "a"}', 'text/plain', 422),
    (b'', 'application/json', 422),
])
def test_bad_requests_get_4xx_with_a_message(client, body, content_type, status):
    response = client.post('/v1/tag', content=body, headers={'Content-Type': content_type})
    assert_problem(response, status)


def test_a_body_over_the_cap_gets_413(client):
    big = json.dumps({'text': 'слово ' * 20_000}).encode()
    assert len(big) > LIMITS.max_body
    assert '65536' in assert_problem(client.post('/v1/tag', content=big,
                                                 headers={'Content-Type': 'application/json'}), 413)
    chunked = client.post('/v1/tag', content=iter([big[:40_000], big[40_000:]]),  # no Content-Length
                          headers={'Content-Type': 'application/json'})
    assert_problem(chunked, 413)
    assert client.post('/v1/tag', json={'text': TEXT}).status_code == 200  # still answers


def test_the_page_and_the_docs_are_served_without_a_cdn(client):
    page = client.get('/')
    assert page.status_code == 200 and 'text/html' in page.headers['content-type']
    assert "script-src 'self'" in page.headers['content-security-policy']
    script = client.get('/web/app.js').text
    assert 'innerHTML' not in script and 'insertAdjacentHTML' not in script and 'textContent' in script
    for path in ('/', '/docs'):
        assert 'http://' not in client.get(path).text and 'https://' not in client.get(path).text
    schema = client.get('/openapi.json').json()
    assert {'/v1/tag', '/v1/tag/batch', '/v1/eval', '/v1/profiles', '/healthz', '/readyz'} <= set(schema['paths'])


def test_settings_reach_the_workers_through_the_environment(monkeypatch):
    settings = Settings(profile='ng', max_body=10, max_chars=20, max_batch=3)
    for key, value in settings.to_env().items():
        monkeypatch.setenv(key, value)
    assert Settings.from_env() == settings


def test_cli_serve_without_the_extra_says_what_to_install(monkeypatch, capsys):
    from extractor import cli

    monkeypatch.setitem(sys.modules, 'extractor.service.app', None)  # as if fastapi were missing
    assert cli.main(['serve', '--port', '1']) == 2
    assert "pip install -e '.[serve]'" in capsys.readouterr().err


def test_cli_serve_help_states_the_limits():
    out = subprocess.run([sys.executable, '-m', 'cli', 'serve', '--help'], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert '413' in out and '--max-body' in out and '127.0.0.1' in out


def test_the_core_never_imports_the_web_stack():
    code = ('import sys, extractor, extractor.tagger, extractor.engines.batch, extractor.evaluate, '
            'extractor.cli; extractor.cli.build_parser(); print(sorted(m for m in sys.modules if m.split(".")[0] in '
            '("fastapi", "uvicorn", "starlette")))')
    out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == '[]'


def test_a_broken_profile_is_reported_and_the_others_served(tmp_path):
    import shutil

    from extractor.resources import profile_dir

    shutil.copytree(profile_dir('default'), tmp_path / 'broken')
    path = tmp_path / 'broken' / 'ranker.npz'
    path.write_bytes(path.read_bytes()[:1000])  # truncated
    with TestClient(create_app(Settings(models=str(tmp_path), max_batch=4))) as client:
        deadline = time.monotonic() + 120
        while (ready := client.get('/readyz')).status_code != 200:
            assert ready.json()['detail'] == 'loading', ready.json()
            assert time.monotonic() < deadline, 'models not loaded in time'
            time.sleep(0.1)
        assert str(path) in ready.json()['broken']['broken']
        profiles = client.get('/v1/profiles').json()
        assert 'broken' not in profiles['profiles'] and 'default' in profiles['profiles']
        assert str(path) in profiles['broken']['broken']
        assert client.post('/v1/tag', json={'text': TEXT}).json()['tags']  # the intact default
        assert client.post('/v1/tag', json={'text': TEXT, 'profile': 'ng'}).json()['tags']
        detail = assert_problem(client.post('/v1/tag', json={'text': TEXT, 'profile': 'broken'}), 503)
        assert str(path) in detail


def test_a_broken_default_profile_keeps_readyz_at_503_saying_why(tmp_path):
    import shutil

    from extractor.resources import profile_dir

    shutil.copytree(profile_dir('default'), tmp_path / 'mine')
    (tmp_path / 'mine' / 'lookups.json').write_text('{"n_docs": ', encoding='utf-8')
    with TestClient(create_app(Settings(profile='mine', models=str(tmp_path)))) as client:
        deadline = time.monotonic() + 120
        while (ready := client.get('/readyz')).json().get('detail') == 'loading':
            assert time.monotonic() < deadline, 'models not loaded in time'
            time.sleep(0.1)
        assert ready.status_code == 503 and 'lookups.json' in ready.json()['detail']
        assert client.post('/v1/tag', json={'text': TEXT, 'profile': 'ng'}).status_code == 503


# ---------------------------------------------------------------- limits, fairness, guards (issue 30)

def test_the_host_header_must_name_the_bind_address():
    from extractor.service.settings import hosts_for

    assert hosts_for('127.0.0.1') == '127.0.0.1,localhost,::1' and hosts_for('0.0.0.0') == '*'
    app = create_app(Settings(allowed_hosts=hosts_for('127.0.0.1')))
    assert TestClient(app, base_url='http://localhost:8000').get('/healthz').status_code == 200
    assert TestClient(app, base_url='http://[::1]:8000').get('/healthz').status_code == 200
    evil = TestClient(app, base_url='http://attacker.example:8000')
    assert 'DNS rebinding' in assert_problem(evil.get('/healthz'), 400)
    assert_problem(evil.post('/v1/tag', json={'text': TEXT}), 400)


def test_no_dotfile_is_served_and_the_docs_have_a_csp(client):
    import base64
    import hashlib
    import re

    from extractor.service.app import WEB

    secret = WEB / '.secret-test'
    secret.write_text('token', encoding='utf-8')
    try:
        assert client.get('/web/.secret-test').status_code == 404
    finally:
        secret.unlink()
    assert client.get('/web/app.js').status_code == 200
    docs = client.get('/docs')
    policy = docs.headers['content-security-policy']
    script = re.search(r'<script>(.*?)</script>', docs.text, re.S).group(1).encode()
    assert f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'" in policy
    assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy


def test_a_batch_over_the_text_budget_gets_413():
    app = create_app(Settings(max_request_chars=5000, max_batch=8))
    with TestClient(app) as client:
        items = [{'text': TEXT * 20} for _ in range(4)]  # some 12,000 characters in all
        detail = assert_problem(client.post('/v1/tag/batch', json={'items': items}), 413)
        assert '--max-request-chars' in detail


def guarded(settings: Settings, inner):
    from extractor.service.guard import Guard

    return Guard(inner, settings=settings)


async def call(app, body: bytes, receive=None) -> tuple[int, dict]:
    sent: list = []

    async def send(message):
        sent.append(message)

    async def one_body():
        return {'type': 'http.request', 'body': body, 'more_body': False}

    scope = {'type': 'http', 'method': 'POST', 'path': '/v1/tag', 'headers': [
        (b'host', b'127.0.0.1'), (b'content-length', str(len(body)).encode())]}
    await app(scope, receive or one_body, send)
    start = sent[0]
    return start['status'], {k.decode(): v.decode() for k, v in start['headers']}


def test_past_the_queue_bound_a_request_gets_503_with_retry_after():
    import asyncio

    async def scenario():
        gate = asyncio.Event()

        async def slow(scope, receive, send):
            await receive()
            await gate.wait()
            await send({'type': 'http.response.start', 'status': 200, 'headers': []})
            await send({'type': 'http.response.body', 'body': b'{}'})

        app = guarded(Settings(max_queue=2, max_queue_bytes=10_000), slow)
        first = [asyncio.create_task(call(app, b'{}')) for _ in range(2)]
        await asyncio.sleep(0.05)
        status, headers = await call(app, b'{}')  # the third at once: 503
        assert status == 503 and headers['retry-after'] == '5', (status, headers)
        big = await call(app, b'x' * 9_999)  # fits the count, not the bytes
        assert big[0] == 503
        gate.set()
        assert [s for s, _ in await asyncio.gather(*first)] == [200, 200]
        assert (await call(app, b'{}'))[0] == 200 and app.admitted == app.admitted_bytes == 0

    asyncio.run(scenario())


def test_a_body_slower_than_the_read_timeout_gets_408():
    import asyncio

    async def scenario():
        async def never(scope, receive, send):
            raise AssertionError('the app must not be called')

        async def trickle():  # a byte now and then, never the end
            await asyncio.sleep(0.3)
            return {'type': 'http.request', 'body': b'x', 'more_body': True}

        app = guarded(Settings(read_timeout=1), never)
        started = time.monotonic()
        status, _ = await call(app, b'x' * 100, receive=trickle)
        assert status == 408 and time.monotonic() - started < 3

    asyncio.run(scenario())


def test_jobs_of_waiting_requests_run_in_turn_and_drain_refuses_the_rest():
    import threading

    from extractor.service.tagging import Draining, FairQueue

    queue, gate, order = FairQueue(), threading.Event(), []
    queue.submit([(gate.wait, ())])  # the thread busy until the requests are queued
    big = queue.submit([(order.append, (f'big{i}',)) for i in range(10)])
    small = queue.submit([(order.append, ('small',))])
    gate.set()
    small[0].result(10)
    assert order.index('small') <= 1, order  # after at most one job of the big batch
    for future in big:
        future.result(10)
    second = threading.Event()
    running = queue.submit([(second.wait, (10,))])
    waiting = queue.submit([(order.append, ('never',))])
    time.sleep(0.2)
    queue.drain()  # the job running goes on, the one waiting is refused
    with pytest.raises(Draining):
        waiting[0].result(5)
    with pytest.raises(Draining):
        queue.submit([(order.append, ('never',))])
    second.set()
    assert running[0].result(5) is True and 'never' not in order


def test_live_server_drops_a_slow_head_and_drains_on_sigterm_without_500s(tmp_path):
    import http.client
    import os
    import signal
    import socket
    import threading

    from live_server import free_port, get

    port = free_port()
    log = open(tmp_path / 'serve.log', 'wb')
    server = subprocess.Popen([sys.executable, '-m', 'cli', 'serve', '--port', str(port),
                               '--read-timeout', '2'], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (tmp_path / 'serve.log').read_text()
            try:
                if get(port, '/readyz')[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, 'not ready in time'
            time.sleep(0.2)
        # a request head sent a byte at a time: dropped after --read-timeout
        slow = socket.create_connection(('127.0.0.1', port))
        slow.settimeout(0.5)
        started, closed = time.monotonic(), False
        for byte in b'POST /v1/tag HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n':
            try:
                slow.send(bytes([byte]))
                if slow.recv(1) == b'':
                    closed = True
                    break
            except socket.timeout:
                continue
            except OSError:
                closed = True
                break
        slow.close()
        assert closed and time.monotonic() - started < 8, 'a slow head was not dropped'

        statuses: list = []

        def post(path: str, body: dict) -> None:
            connection = http.client.HTTPConnection('127.0.0.1', port, timeout=120)
            try:
                connection.request('POST', path, json.dumps(body, ensure_ascii=False).encode(),
                                   {'Content-Type': 'application/json'})
                statuses.append(connection.getresponse().status)
            except OSError as error:
                statuses.append(type(error).__name__)
            finally:
                connection.close()

        big = {'items': [{'text': TEXT * 40} for _ in range(32)]}
        threads = [threading.Thread(target=post, args=('/v1/tag/batch', big)) for _ in range(2)]
        threads += [threading.Thread(target=post, args=('/v1/tag', {'text': TEXT})) for _ in range(4)]
        for thread in threads:
            thread.start()
            time.sleep(0.05)
        time.sleep(1.0)
        os.kill(server.pid, signal.SIGTERM)
        for thread in threads:
            thread.join(120)
        assert server.wait(60) is not None
    finally:
        if server.poll() is None:
            server.kill()
        log.close()
    assert len(statuses) == 6 and set(statuses) <= {200, 503}, statuses
    assert 200 in statuses, statuses  # the small ones went through before the big batches
