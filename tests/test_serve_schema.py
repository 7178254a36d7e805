"""The OpenAPI schema of ``extractor serve`` fuzzed by schemathesis against a live server on
127.0.0.1: valid and invalid requests, a bounded number per operation (``EXAMPLES``, or
``$EXTRACTOR_SCHEMA_EXAMPLES``); no 5xx, and every answer matches the schema."""
from __future__ import annotations

import os

import pytest

pytest.importorskip('fastapi', reason="the serve extra is not installed (pip install -e '.[serve]')")
schemathesis = pytest.importorskip('schemathesis', reason="schemathesis is missing (pip install -e '.[test]')")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from schemathesis import checks  # noqa: E402

from live_server import live_server  # noqa: E402

EXAMPLES = int(os.environ.get('EXTRACTOR_SCHEMA_EXAMPLES', 25))  # per operation and mode: ~150 requests
CHECKS = [checks.not_a_server_error, checks.response_schema_conformance,
          checks.content_type_conformance, checks.status_code_conformance]


@pytest.fixture(scope='module')
def schema():
    with live_server('--max-batch', '8') as url:
        yield schemathesis.openapi.from_url(f'{url}/openapi.json')


def operations():
    return ['GET /healthz', 'GET /readyz', 'GET /v1/profiles',
            'POST /v1/tag', 'POST /v1/tag/batch', 'POST /v1/eval']


CASES = [(name, mode) for name in operations() for mode in ('positive', 'negative')
         if mode == 'positive' or name.startswith('POST')]  # a GET here takes no input to break


@pytest.mark.parametrize('name, mode', CASES)
def test_schema_fuzzed(schema, name, mode):
    method, path = name.split()
    operation = schema[path][method]

    @given(case=operation.as_strategy(generation_mode=schemathesis.GenerationMode(mode)))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def check(case):
        case.call_and_validate(checks=CHECKS)

    check()


def test_every_operation_is_fuzzed(schema):
    found = {f'{op.ok().method.upper()} {op.ok().path}' for op in schema.get_all_operations()}
    assert found == set(operations())
