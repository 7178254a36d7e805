// The editor's page: tags an article through /v1/eval (with a gold line) or /v1/tag.
// Everything from the article or the server is shown through textContent, never as HTML.
'use strict';

const $ = (id) => document.getElementById(id);
const KINDS = { PER: 'персона', LOC: 'место', ORG: 'организация', PHRASE: 'фраза', TOPIC: 'тема', USER: 'вручную' };
const state = { article: '', chips: [], gold: null, scoreRun: 0 };

// ------------------------------------------------------------ Russian plurals

// The form of a noun after the number n: 1, 21, 101 тег; 2-4, 22-24 тега; 0, 5-20, 25-30, 111 тегов.
function plural(n, one, few, many) {
  const tens = Math.abs(n) % 100;
  const units = tens % 10;
  if (tens >= 11 && tens <= 14) return many;
  if (units === 1) return one;
  if (units >= 2 && units <= 4) return few;
  return many;
}

const NOUNS = {
  tag: ['тег', 'тега', 'тегов'],
  mention: ['упоминание', 'упоминания', 'упоминаний'],
  char: ['символ', 'символа', 'символов'],
};

function counted(n, noun) {
  return n + ' ' + plural(n, ...NOUNS[noun]);
}

// ------------------------------------------------------------ tag styles (extractor/tags.py)

const QUOTES = /[«»„“”"'()[\]]/g;

function strip(text, chars) {
  let start = 0;
  let stop = text.length;
  while (start < stop && chars.includes(text[start])) start += 1;
  while (stop > start && chars.includes(text[stop - 1])) stop -= 1;
  return text.slice(start, stop);
}

function clean(text) {
  text = text.replace(/\u00ad/g, '').replace(QUOTES, '');
  if (!text.includes(' - ')) text = text.replace(/\s*-\s*/g, '-');
  return strip(text.replace(/\s+/g, ' '), ' .,;:!?*');
}

function upperFirst(text) {
  const first = String.fromCodePoint(text.codePointAt(0));
  return first.toUpperCase() + text.slice(first.length);
}

function styled(text, style) {
  text = clean(text);
  if (!text) return text;
  if (style === 'lower') return text.toLowerCase();
  if (style === 'camel') return text.split(/[\s-]+/).filter(Boolean).map(upperFirst).join('');
  return upperFirst(text);
}

function hashtagLine() {
  const style = $('style').value;
  return state.chips.map((chip) => styled(chip.normal, style)).filter(Boolean).map((t) => '#' + t).join(' ');
}

// ------------------------------------------------------------ server

async function post(path, body) {
  let response;
  try {
    response = await fetch(path, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    });
  } catch (error) {
    return { ok: false, status: 0, body: { detail: 'сервер недоступен' } };
  }
  let data = {};
  try { data = await response.json(); } catch (error) { data = { detail: response.statusText }; }
  return { ok: response.ok, status: response.status, body: data };
}

function status(text, isError) {
  $('status').textContent = text;
  $('status').classList.toggle('error', Boolean(isError));
}

// ------------------------------------------------------------ rendering

function renderText(text, entities) {
  // Offsets count code points (Python's str), so the text is sliced as an array of them.
  const chars = Array.from(text);
  const box = $('text');
  box.replaceChildren();
  const spans = entities.filter((e) => e.field === 'text' && e.start < e.stop && e.stop <= chars.length)
    .sort((a, b) => a.start - b.start || b.stop - a.stop);
  const stack = [{ node: box, stop: chars.length }];
  let pos = 0;
  const put = (node, stop) => {
    if (stop > pos) node.appendChild(document.createTextNode(chars.slice(pos, stop).join('')));
    pos = Math.max(pos, stop);
  };
  for (const entity of spans) {
    while (stack.length > 1 && stack[stack.length - 1].stop <= entity.start) {
      const top = stack.pop();
      put(top.node, top.stop);
    }
    const top = stack[stack.length - 1];
    if (entity.stop > top.stop || entity.start < pos) continue; // crosses another mention
    put(top.node, entity.start);
    const mark = document.createElement('mark');
    mark.className = 'ent ent-' + (['PER', 'LOC', 'ORG'].includes(entity.type) ? entity.type : 'OTHER');
    mark.title = entity.type + ': ' + entity.normal;
    top.node.appendChild(mark);
    stack.push({ node: mark, stop: entity.stop });
  }
  while (stack.length > 1) {
    const top = stack.pop();
    put(top.node, top.stop);
  }
  put(box, chars.length);
}

function renderChips() {
  const style = $('style').value;
  const list = $('chips');
  list.replaceChildren();
  state.chips.forEach((chip, index) => {
    const item = document.createElement('li');
    item.className = 'chip kind-' + chip.kind + (chip.match ? ' match-' + chip.match : '');
    const text = document.createElement('span');
    text.className = 'chip-text';
    text.textContent = '#' + styled(chip.normal, style);
    text.title = text.textContent; // a long tag wraps in its chip; the whole of it on hover too
    const kind = document.createElement('span');
    kind.className = 'chip-kind';
    kind.textContent = KINDS[chip.kind] || chip.kind;
    item.append(text, kind);
    if (chip.score !== null) {
      const score = document.createElement('span');
      score.className = 'chip-score';
      score.textContent = chip.score.toFixed(2);
      item.append(score);
    }
    if (chip.match) {
      item.title = chip.match === 'exact' ? 'совпадает с тегом редакции' : 'совпадает по леммам';
    }
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'chip-remove';
    remove.setAttribute('aria-label', 'убрать ' + text.textContent);
    remove.textContent = '×';
    remove.addEventListener('click', () => {
      state.chips.splice(index, 1);
      changed();
    });
    item.append(remove);
    list.append(item);
  });
  $('hashtags').textContent = hashtagLine();
}

function renderGold(data) {
  $('gold-panel').hidden = !state.gold;
  if (!state.gold || !data) return;
  const list = $('gold');
  list.replaceChildren();
  for (const tag of data.gold) {
    const item = document.createElement('li');
    item.className = tag.match ? 'hit match-' + tag.match : 'miss';
    item.textContent = ({ exact: '✓ ', lemma: '≈ ' }[tag.match] || '✗ ') + '#' + tag.text;
    list.append(item);
  }
  for (const level of ['exact', 'lemma']) {
    for (const figure of ['p', 'r', 'f1']) {
      $(level + '-' + figure).textContent = data[level][figure].toFixed(2);
    }
  }
  data.pred.forEach((tag, index) => {
    if (state.chips[index]) state.chips[index].match = tag.match;
  });
}

// ------------------------------------------------------------ actions

async function tagArticle() {
  const raw = $('article').value;
  if (!raw.trim()) {
    status('Вставьте статью или откройте файл', true);
    return;
  }
  const options = { profile: $('profile').value || null };
  state.scoreRun += 1; // figures still on their way belong to the previous article
  $('tag').disabled = true;
  status('Размечаю…');
  let reply = await post('/v1/eval', { article: raw, ...options });
  let text = raw;
  let gold = true;
  if (!reply.ok && reply.status === 422 && String(reply.body.detail).startsWith('no gold line')) {
    gold = false;
    reply = await post('/v1/tag', { text: raw, ...options });
  }
  $('tag').disabled = false;
  if (!reply.ok) {
    status('Ошибка: ' + (reply.body.detail || reply.status), true);
    return;
  }
  const data = reply.body;
  if (gold) text = data.text;
  state.article = raw;
  state.gold = gold;
  state.chips = data.tags.map((t) => ({ normal: t.normal, kind: t.kind, score: t.score, match: null }));
  renderText(text, data.entities);
  $('truncated').hidden = !data.truncated;
  $('chars').textContent = counted(data.chars, 'char');
  $('result').classList.toggle('with-gold', gold);
  renderGold(gold ? data : null);
  renderChips();
  $('result').hidden = false;
  status(counted(data.tags.length, 'tag') + ', ' + counted(data.entities.length, 'mention') + ', '
    + Math.round(data.took_ms) + ' мс');
}

async function rescore() {
  if (!state.gold) return;
  const run = ++state.scoreRun;
  const reply = await post('/v1/eval', {
    article: state.article, tags: state.chips.map((chip) => chip.normal), profile: $('profile').value || null,
  });
  if (run !== state.scoreRun) return; // a newer edit is being scored
  if (!reply.ok) {
    status('Ошибка: ' + (reply.body.detail || reply.status), true);
    return;
  }
  renderGold(reply.body);
  renderChips();
}

function changed() {
  state.chips.forEach((chip) => { chip.match = null; });
  renderChips();
  rescore();
}

function addChip(event) {
  event.preventDefault();
  const value = clean($('add').value);
  if (!value) return;
  const key = value.toLowerCase().replace(/ё/g, 'е');
  if (!state.chips.some((chip) => clean(chip.normal).toLowerCase().replace(/ё/g, 'е') === key)) {
    state.chips.push({ normal: value, kind: 'USER', score: null, match: null });
    changed();
  }
  $('add').value = '';
}

async function copyLine() {
  const line = hashtagLine();
  try {
    await navigator.clipboard.writeText(line);
  } catch (error) { // no clipboard API (an insecure origin): select the line for Ctrl+C
    const range = document.createRange();
    range.selectNodeContents($('hashtags'));
    window.getSelection().removeAllRanges();
    window.getSelection().addRange(range);
    status('Строка выделена: Ctrl+C');
    return;
  }
  status('Скопировано');
}

async function openFile() {
  const file = $('file').files[0];
  if (!file) return;
  $('article').value = await file.text();
  $('file').value = '';
  tagArticle();
}

async function loadProfiles() {
  try {
    const data = await (await fetch('/v1/profiles')).json();
    for (const name of data.profiles) {
      const option = document.createElement('option');
      option.value = name;
      option.textContent = name;
      option.selected = name === data.default;
      $('profile').append(option);
    }
  } catch (error) {
    status('Сервер недоступен', true);
  }
}

document.addEventListener('DOMContentLoaded', () => {
  $('tag').addEventListener('click', tagArticle);
  $('add-form').addEventListener('submit', addChip);
  $('copy').addEventListener('click', copyLine);
  $('file').addEventListener('change', openFile);
  $('style').addEventListener('change', renderChips);
  loadProfiles();
});
