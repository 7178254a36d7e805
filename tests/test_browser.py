"""The editor's page in a real browser: Debian's chromium driven by selenium through chromedriver.

The server runs as ``extractor serve`` on a free loopback port. Screenshots (desktop and phone
width) go to ``$EXTRACTOR_SCREENSHOTS`` (default: the test's tmp folder); ``docs/`` keeps a copy.
Skips where chromium, chromedriver or selenium is missing, except under CI (``CI=true``), where
``.ci/run`` installs them and a missing one is a failure.
"""
from __future__ import annotations

import base64
import colorsys
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from live_server import ROOT, live_server

CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
DRIVER = shutil.which('chromedriver') or '/usr/bin/chromedriver'
SAMPLE = ROOT / 'samples' / '07_zambia_mfa_visit.txt'
FLAGS = ('--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--disable-dev-shm-usage', '--lang=ru')


def missing() -> str | None:
    if importlib_missing('selenium'):
        return "selenium is not installed (pip install -e '.[test]')"
    if importlib_missing('fastapi'):
        return "the serve extra is not installed (pip install -e '.[serve]')"
    for path, package in ((CHROMIUM, 'chromium'), (DRIVER, 'chromium-driver')):
        if not os.access(path, os.X_OK):
            return f'{path} not found (apt-get install {package})'
    return None


def importlib_missing(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is None


reason = missing()
if reason and os.environ.get('CI') == 'true':
    raise RuntimeError(f'the browser test must run in CI: {reason}')
pytestmark = pytest.mark.skipif(bool(reason), reason=reason or '')


@pytest.fixture(scope='module')
def server():
    with live_server() as url:
        yield url


@pytest.fixture(scope='module')
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix='extractor-chromium-')
    for flag in (*FLAGS, f'--user-data-dir={profile}', '--window-size=1280,900'):
        options.add_argument(flag)
    options.set_capability('goog:loggingPrefs', {'performance': 'ALL'})  # the responses, for 404s
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope='module')
def shots(tmp_path_factory) -> Path:
    path = Path(os.environ.get('EXTRACTOR_SCREENSHOTS') or tmp_path_factory.mktemp('screenshots'))
    path.mkdir(parents=True, exist_ok=True)
    return path


def api(server: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(server + path, json.dumps(body).encode(),
                                     {'Content-Type': 'application/json'})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def wait(driver, condition, timeout: float = 30):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: condition(d))


def text_of(driver, element_id: str) -> str:
    return driver.execute_script(f'return document.getElementById("{element_id}").textContent')


def tag(driver, server: str, article: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(server + '/')
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, '#profile option'))
    box = driver.find_element(By.ID, 'article')
    box.clear()
    box.send_keys(article)
    driver.find_element(By.ID, 'tag').click()
    wait(driver, lambda d: d.find_element(By.ID, 'result').is_displayed()
         and not d.find_element(By.ID, 'tag').get_attribute('disabled'))


def screenshot(driver, path: Path, height: float | None = None) -> None:
    """The whole page (or its top ``height`` pixels), not only the window: chromium's own
    capture beyond the viewport."""
    size = driver.execute_cdp_cmd('Page.getLayoutMetrics', {})['cssContentSize']
    clip = {'x': 0, 'y': 0, 'width': size['width'], 'height': min(size['height'], height or size['height']),
            'scale': 1}
    data = driver.execute_cdp_cmd('Page.captureScreenshot', {'format': 'png', 'captureBeyondViewport': True,
                                                            'clip': clip})
    path.write_bytes(base64.b64decode(data['data']))


def chip_texts(driver) -> list[str]:
    """Read in one script: the page re-renders the chips when the figures come back."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#chips .chip-text'), e => e.textContent)")


def last_chip_class(driver) -> str:
    return driver.execute_script("const c = document.querySelectorAll('#chips .chip');"
                                 "return c.length ? c[c.length - 1].className : ''")


def ru_count(n: int, one: str, few: str, many: str) -> str:
    """The Russian rule, written apart from the page's: 1 тег, 2-4 тега, 5-20 тегов; by the last
    two digits."""
    last_two, last = n % 100, n % 10
    form = many if 11 <= last_two <= 19 else one if last == 1 else few if last in (2, 3, 4) else many
    return f'{n} {form}'


def hue(css_colour: str) -> float:
    """The hue in degrees of a computed ``rgb(...)`` / ``rgba(...)`` colour."""
    r, g, b = (float(v) / 255 for v in re.findall(r'[\d.]+', css_colour)[:3])
    return colorsys.rgb_to_hls(r, g, b)[0] * 360


def responses(driver, origin: str) -> dict:
    """url -> (status, MIME type) of what the page fetched from ``origin`` since the last call."""
    seen = {}
    for entry in driver.get_log('performance'):
        message = json.loads(entry['message'])['message']
        if message['method'] == 'Network.responseReceived':
            response = message['params']['response']
            if response['url'].startswith(origin):
                seen[response['url'][len(origin):]] = (response['status'], response.get('mimeType'))
    return seen


def no_sideways_scroll(driver) -> bool:
    return driver.execute_script('const e = document.documentElement; return e.scrollWidth <= e.clientWidth')


def resize(driver, width: int, height: int) -> None:
    driver.set_window_size(width, height)
    wait(driver, lambda d: d.execute_script('return window.innerWidth') <= width)


def test_page_tags_a_sample_edits_chips_and_scores(server, browser, shots):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    raw = SAMPLE.read_text(encoding='utf-8')
    expected = api(server, '/v1/eval', {'article': raw})
    tag(browser, server, raw)
    took = f"{ru_count(len(expected['tags']), 'тег', 'тега', 'тегов')}, " \
        f"{ru_count(len(expected['entities']), 'упоминание', 'упоминания', 'упоминаний')}, "
    assert text_of(browser, 'status').startswith(took)

    # the text as the tagger read it (no gold line), every mention highlighted in its colour
    assert text_of(browser, 'text') == expected['text']
    marks = {(m.get_attribute('class').split()[-1][4:], m.get_attribute('textContent'))
             for m in browser.find_elements(By.CSS_SELECTOR, '#text mark.ent')}
    assert {kind for kind, _ in marks} == {'PER', 'LOC', 'ORG'}
    assert marks <= {(e['type'], e['text']) for e in expected['entities']}
    assert len(marks) >= len({(e['type'], e['text']) for e in expected['entities']}) - 2  # crossing ones
    colours = {kind: browser.find_element(By.CSS_SELECTOR, f'#text mark.ent-{kind}').value_of_css_property(
        'background-color') for kind in ('PER', 'LOC', 'ORG')}
    assert len(set(colours.values())) == 3

    # chips with kind and score; the page's hashtag line is the API's, in each style
    chips = browser.find_elements(By.CSS_SELECTOR, '#chips .chip')
    assert len(chips) == len(expected['tags']) > 3
    assert chips[0].find_element(By.CLASS_NAME, 'chip-score').text == f"{expected['tags'][0]['score']:.2f}"
    assert text_of(browser, 'hashtags') == expected['hashtags']
    for style in ('camel', 'lower', 'seed'):
        Select(browser.find_element(By.ID, 'style')).select_by_value(style)
        assert text_of(browser, 'hashtags') == api(server, '/v1/tag', {'text': expected['text'],
                                                                     'style': style})['hashtags']

    # the gold line: matches and the scorer's figures
    assert browser.find_element(By.ID, 'gold-panel').is_displayed()
    assert text_of(browser, 'exact-f1') == f"{expected['exact']['f1']:.2f}"
    hits = browser.find_elements(By.CSS_SELECTOR, '#gold li.hit')
    assert len(hits) == sum(1 for g in expected['gold'] if g['match'])
    screenshot(browser, shots / 'page-desktop.png')

    # remove a chip: gone from the chips and from the line to copy; the figures follow
    removed = chip_texts(browser)[0]
    browser.find_elements(By.CSS_SELECTOR, '#chips .chip-remove')[0].click()
    assert removed not in chip_texts(browser)
    assert removed not in text_of(browser, 'hashtags').split(' #') and not \
        text_of(browser, 'hashtags').startswith(removed + ' ')
    rest = [t['normal'] for t in expected['tags'][1:]]
    rescored = api(server, '/v1/eval', {'article': raw, 'tags': rest})
    wait(browser, lambda d: text_of(d, 'exact-f1') == f"{rescored['exact']['f1']:.2f}")

    # add a chip by typing: a gold tag the tagger missed (if any) is then matched
    missed = next((g['text'] for g in expected['gold'] if not g['match']), 'Лусака')
    field = browser.find_element(By.ID, 'add')
    field.send_keys(missed + '\n')
    assert chip_texts(browser)[-1] == '#' + missed
    assert text_of(browser, 'hashtags').endswith('#' + missed)
    wait(browser, lambda d: 'match-exact' in last_chip_class(d))

    browser.find_element(By.ID, 'copy').click()
    wait(browser, lambda d: text_of(d, 'status') in ('Скопировано', 'Строка выделена: Ctrl+C'))

    # a phone-width window: one column, nothing wider than the screen
    browser.set_window_size(390, 844)
    wait(browser, lambda d: d.execute_script('return window.innerWidth') <= 400)
    assert no_sideways_scroll(browser)
    screenshot(browser, shots / 'page-phone.png')
    browser.set_window_size(1280, 900)


def test_page_shows_markup_in_the_article_as_text(server, browser):
    from selenium.webdriver.common.by import By

    article = ('Мэр Москвы <script>window.hacked = 1</script> Сергей Собянин\n\n'
               'Сергей Собянин открыл станцию <img src=x onerror="window.hacked = 2"> в Москве. '
               '<b>Жирный</b> текст & «кавычки».')
    tag(browser, server, article)
    assert text_of(browser, 'text') == article
    assert not browser.find_elements(By.CSS_SELECTOR, '#text script, #text img, #text b, #chips script')
    assert browser.execute_script('return window.hacked') is None
    assert browser.find_elements(By.CSS_SELECTOR, '#text mark.ent')
    assert not browser.find_element(By.ID, 'gold-panel').is_displayed()


def test_api_docs_render_without_internet(server, browser):
    from selenium.webdriver.common.by import By

    browser.get(server + '/docs')
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, '.opblock')) >= 6)
    paths = {e.text for e in browser.find_elements(By.CSS_SELECTOR, '.opblock-summary-path')}
    assert {'/v1/tag', '/v1/tag/batch', '/v1/eval'} <= paths


def test_page_counts_in_russian_and_loads_its_favicon(server, browser):
    from selenium.webdriver.common.by import By

    browser.execute_cdp_cmd('Network.clearBrowserCache', {})
    browser.get_log('performance')  # drop what came before
    browser.get(server + '/?fresh')  # a page the browser has no icon for yet
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, '#profile option'))
    counts = [0, 1, 2, 4, 5, 11, 12, 14, 19, 20, 21, 22, 25, 101, 102, 111, 112, 121, 1001, 1000011]
    said = browser.execute_script("return arguments[0].map(n => counted(n, 'tag'))", counts)
    assert said == [ru_count(n, 'тег', 'тега', 'тегов') for n in counts]
    assert said[10:13] == ['21 тег', '22 тега', '25 тегов'] and said[5] == '11 тегов' and said[0] == '0 тегов'
    assert browser.execute_script("return counted(3, 'char') + ' ' + counted(11, 'mention')") == \
        '3 символа 11 упоминаний'

    # the icon the page names is fetched (an SVG, under the page's CSP), and nothing fails to load
    icon = browser.execute_script("return document.querySelector('link[rel=icon]').getAttribute('href')")
    fetched = {}
    wait(browser, lambda d: fetched.update(responses(d, server)) or icon in fetched, timeout=15)
    assert fetched[icon] == (200, 'image/svg+xml')
    assert all(status < 400 for status, _ in fetched.values()), fetched
    with urllib.request.urlopen(server + icon, timeout=10) as reply:
        assert ET.fromstring(reply.read()).tag.endswith('svg')


def test_page_legend_and_colours_mean_one_thing_each(server, browser):
    from selenium.webdriver.common.by import By

    tag(browser, server, SAMPLE.read_text(encoding='utf-8'))  # with a gold line
    for legend in ('text-legend', 'chip-legend'):
        assert browser.find_element(By.ID, legend).is_displayed()
    swatches = {e.text for e in browser.find_elements(By.CSS_SELECTOR, '#chip-legend .swatch')
                if e.is_displayed()}
    assert {'персона', 'место', 'организация', 'вручную'} <= swatches
    assert any('есть у редакции' in s for s in swatches) and any('по леммам' in s for s in swatches)

    # green is "matches a gold tag" and nothing else: not the colour of places
    def css(selector: str, name: str) -> str:
        return browser.find_element(By.CSS_SELECTOR, selector).value_of_css_property(name)

    green = range(75, 170)
    assert int(hue(css('#chip-legend .match-exact', 'border-top-color'))) in green
    assert int(hue(css('#gold li.hit', 'color'))) in green
    for selector in ('#text mark.ent-LOC', '#text mark.ent-PER', '#text mark.ent-ORG',
                     '#chip-legend .kind-LOC'):
        assert int(hue(css(selector, 'background-color'))) not in green, selector

    # without a gold line the legend keeps the kinds and drops the matches
    tag(browser, server, 'Сергей Собянин открыл в Москве станцию метро.')
    gold_only = browser.find_elements(By.CSS_SELECTOR, '#chip-legend .gold-only')
    assert gold_only and not any(e.is_displayed() for e in gold_only)
    assert browser.find_element(By.CSS_SELECTOR, '#chip-legend .kind-LOC').is_displayed()


def test_page_long_camel_chip_does_not_scroll_sideways(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    tag(browser, server, SAMPLE.read_text(encoding='utf-8'))
    long_tag = ' '.join(['Межрегиональное объединение', 'производителей сельскохозяйственной техники'] * 6)
    browser.find_element(By.ID, 'add').send_keys(long_tag + '\n')
    Select(browser.find_element(By.ID, 'style')).select_by_value('camel')
    camel = '#' + long_tag.title().replace(' ', '')
    wait(browser, lambda d: chip_texts(d)[-1] == camel)
    try:
        for width, height in ((1280, 900), (360, 780)):
            resize(browser, width, height)
            assert no_sideways_scroll(browser), width
            box = browser.execute_script(
                "const chips = document.querySelectorAll('#chips .chip'), last = chips[chips.length - 1];"
                "const list = document.getElementById('chips').getBoundingClientRect();"
                "const c = last.getBoundingClientRect();"
                "return [c.left - list.left, list.right - c.right, last.querySelector('.chip-text').title,"
                "        c.height / parseFloat(getComputedStyle(last).fontSize)]")
            assert box[0] >= 0 and box[1] >= -0.5, (width, box)  # inside its column
            assert box[2] == camel  # the whole tag in its title
            assert box[3] > 3  # wrapped over lines, not cut
    finally:
        resize(browser, 1280, 900)


def test_report_in_chromium(browser, shots, tmp_path):
    """The report of ``extractor eval samples/ --report DIR``: its charts drawn, no sideways
    scrolling, the legend shown; docs/report.png is its top."""
    from selenium.webdriver.common.by import By

    out = tmp_path / 'report'
    done = subprocess.run([sys.executable, '-m', 'cli', 'eval', 'samples/', '--report', str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    browser.get((out / 'report.html').as_uri())
    charts = browser.find_elements(By.CSS_SELECTOR, 'svg.chart')
    assert len(charts) == 3 and all(c.size['width'] > 200 and c.size['height'] > 100 for c in charts)
    assert browser.find_element(By.CSS_SELECTOR, 'dl.legend').is_displayed()
    f1 = [float(re.search(r'F1 exact ([\d.]+)', p.text).group(1))
          for p in browser.find_elements(By.CSS_SELECTOR, '.doc > p:first-of-type')]
    assert len(f1) == len(list((ROOT / 'samples').glob('*.txt'))) and f1 == sorted(f1)
    try:
        for width, height in ((1280, 900), (360, 780)):
            resize(browser, width, height)
            assert no_sideways_scroll(browser), width
    finally:
        resize(browser, 1280, 900)
    top = browser.execute_script(
        "return document.querySelector('.doc').getBoundingClientRect().top + scrollY")
    screenshot(browser, shots / 'report.png', height=top + 420)
