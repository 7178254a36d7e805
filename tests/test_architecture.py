"""The layers of ARCHITECTURE.md, held against every import of the package."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / 'extractor'
BASE = {'doc', 'tags', 'article', 'cache', 'threads', 'resources'}
# layer -> the layers it may import; a module's layer is its first name under ``extractor``
ALLOWED = {
    'base': {'base'},
    'analysis': {'base', 'analysis'},
    'ranking': {'base', 'analysis', 'ranking'},
    'tagger': {'base', 'analysis', 'ranking'},
    'evaluate': {'base', 'evaluate'},
    'engines': {'base', 'tagger', 'engines'},
    'training': {'base', 'analysis', 'ranking', 'tagger', 'evaluate', 'engines', 'training'},
    'service': {'base', 'tagger', 'evaluate', 'service'},
    'cli': {'base', 'analysis', 'ranking', 'tagger', 'evaluate', 'engines', 'training', 'service'},
    '__init__': {'base', 'tagger', 'engines'},
}
# third-party package -> the modules (dotted, under ``extractor``) that may import it
THIRD_PARTY = {
    'sklearn': ('training',),
    'fastapi': ('service',), 'fastapi_offline': ('service',), 'uvicorn': ('service',),
    'pydantic': ('service',), 'starlette': ('service',),
    'dask': ('engines.cluster',), 'distributed': ('engines.cluster',),
    'pandas': ('engines', 'evaluate'), 'pyarrow': ('engines', 'evaluate'),
}


def modules() -> list[tuple[str, Path]]:
    """(dotted name under ``extractor``, path) of every module of the package."""
    found = []
    for path in sorted(PACKAGE.rglob('*.py')):
        parts = path.relative_to(PACKAGE).with_suffix('').parts
        found.append(('.'.join(parts), path))
    return found


def layer(name: str) -> str:
    first = name.split('.')[0]
    return 'base' if first in BASE else first


def imports(name: str, path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in the module, at any depth."""
    package = name.split('.')[:-1]  # where a relative import starts (an __init__ too)
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ['extractor'] + package[:len(package) - node.level + 1]
                module = '.'.join(base + ([node.module] if node.module else []))
                targets = [module] if node.module else [f'{module}.{a.name}' for a in node.names]
            else:
                targets = [node.module]
            found += [(node.lineno, target) for target in targets]
    return found


def inside(target: str) -> str | None:
    """The dotted name under ``extractor`` that an import reaches, or None outside it."""
    if target == 'extractor':
        return '__init__'
    if target.startswith('extractor.'):
        return target[len('extractor.'):]
    return None


def test_the_package_is_read_whole():
    names = {name for name, _ in modules()}
    assert {'tagger', 'analysis.pipeline', 'ranking.profile', 'engines.batch', 'cli'} <= names
    assert all(layer(name) in ALLOWED for name in names), sorted(names)


@pytest.mark.parametrize('name, path', modules(), ids=[name for name, _ in modules()])
def test_imports_follow_the_layers(name, path):
    wrong = []
    for line, target in imports(name, path):
        reached = inside(target)
        if reached is not None and layer(reached) not in ALLOWED[layer(name)]:
            wrong.append(f'{path.name}:{line} imports {target} ({layer(name)} -> {layer(reached)})')
        top = target.split('.')[0]
        if top in THIRD_PARTY and not any(name == allowed or name.startswith(allowed + '.')
                                          for allowed in THIRD_PARTY[top]):
            wrong.append(f'{path.name}:{line} imports {top}, which only {THIRD_PARTY[top]} may')
    assert not wrong, wrong


def test_the_rule_catches_a_wrong_import(tmp_path):
    """The checker itself: an analysis module importing the tagger is refused."""
    path = tmp_path / 'bad.py'
    path.write_text('from ..tagger import Tagger\nimport sklearn\n', encoding='utf-8')
    targets = [target for _, target in imports('analysis.bad', path)]
    assert targets == ['extractor.tagger', 'sklearn']
    assert layer(inside(targets[0])) not in ALLOWED['analysis']
