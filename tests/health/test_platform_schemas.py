"""Our own schemas, as `dbops migrate` leaves them, pass `dbops check indexes --schema-only` clean."""

from __future__ import annotations

import json

import pytest


@pytest.mark.parametrize("schema", ["healthcare", "fashion"])
def test_migrated_schema_passes_schema_only_clean(schema, request, dbops):
    url = request.getfixturevalue(f"{schema}_db")
    result = dbops("check", "indexes", schema, "--database-url", url, "--schema-only", "--format", "json")
    findings = json.loads(result.stdout)["findings"] if result.stdout.strip() else []
    described = [f"{f['severity']} {f['rule']} {f['object']}: {f['message']}" for f in findings]
    assert result.exit_code == 0, described or result.output
    assert described == []
