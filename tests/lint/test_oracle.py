"""pglast (PostgreSQL's own parser) as the oracle: the facts dbops extracts match it on a real corpus.

For every statement of ``../shared/corpora/prairielearn``: the statement split, the kind, the target
table, CONCURRENTLY, the lock mode of LOCK, and per ALTER TABLE action the action kind, the constraint
kind, NOT VALID, USING INDEX, the column, its type (name, modifiers, array) and whether it has a
default / NOT NULL.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pglast = pytest.importorskip("pglast")
from pglast import ast, enums  # noqa: E402

from dbops.lint.engine import prepare  # noqa: E402
from dbops.lint.pgtypes import TypeInfo, canonical  # noqa: E402

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpora" / "prairielearn"

_ACTIONS = {
    "AT_AddColumn": "add_column", "AT_DropColumn": "drop_column", "AT_AlterColumnType": "alter_type",
    "AT_SetNotNull": "set_not_null", "AT_DropNotNull": "drop_not_null", "AT_AddConstraint": "add_constraint",
    "AT_DropConstraint": "drop_constraint", "AT_ValidateConstraint": "validate_constraint",
    "AT_AttachPartition": "attach_partition", "AT_DetachPartition": "detach_partition",
}
_CONSTRAINTS = {"CONSTR_FOREIGN": "foreign_key", "CONSTR_CHECK": "check", "CONSTR_UNIQUE": "unique",
                "CONSTR_PRIMARY": "primary_key", "CONSTR_EXCLUSION": "exclude"}


def _type(type_name) -> TypeInfo:
    name = type_name.names[-1].sval
    params = tuple(m.val.ival for m in (type_name.typmods or ()) if isinstance(m, ast.A_Const)
                   and isinstance(m.val, ast.Integer))
    if name in ("timestamptz", "timestamp", "time", "timetz", "interval", "varchar", "bpchar", "numeric"):
        pass
    return TypeInfo(canonical(name), params, bool(type_name.arrayBounds))


def _oracle(node) -> dict:
    """Facts from pglast's tree, in dbops' vocabulary (None: not compared)."""
    if isinstance(node, ast.IndexStmt):
        return {"kind": "create_index", "table": node.relation.relname, "concurrently": bool(node.concurrent)}
    if isinstance(node, ast.CreateStmt):
        return {"kind": "create_table", "table": node.relation.relname}
    if isinstance(node, ast.DropStmt):
        kind = enums.ObjectType(node.removeType).name
        if kind == "OBJECT_INDEX":
            return {"kind": "drop_index", "concurrently": bool(node.concurrent)}
        if kind == "OBJECT_TABLE":
            return {"kind": "drop_table", "table": node.objects[0][-1].sval}
        return {"kind": "other"}
    if isinstance(node, ast.LockStmt):
        return {"kind": "lock", "table": node.relations[0].relname, "lock": node.mode}
    if isinstance(node, ast.RenameStmt):
        kind = enums.ObjectType(node.renameType).name
        if kind == "OBJECT_COLUMN":
            return {"kind": "alter_table", "table": node.relation.relname,
                    "actions": [{"kind": "rename_column", "column": node.subname}]}
        if kind == "OBJECT_TABLE":
            return {"kind": "alter_table", "table": node.relation.relname, "actions": [{"kind": "rename_table"}]}
        return {}
    if isinstance(node, ast.AlterTableStmt) and enums.ObjectType(node.objtype).name == "OBJECT_TABLE":
        actions = []
        for cmd in node.cmds:
            subtype = enums.AlterTableType(cmd.subtype).name
            action = {"kind": _ACTIONS.get(subtype)}
            definition = cmd.def_
            if subtype == "AT_AddColumn":
                cons = [enums.ConstrType(c.contype).name for c in (definition.constraints or ())]
                action.update(column=definition.colname, type=_type(definition.typeName),
                              has_default="CONSTR_DEFAULT" in cons, not_null="CONSTR_NOTNULL" in cons)
            elif subtype == "AT_AlterColumnType":
                action.update(column=cmd.name, type=_type(definition.typeName))
            elif subtype == "AT_AddConstraint":
                action.update(constraint=_CONSTRAINTS.get(enums.ConstrType(definition.contype).name),
                              not_valid=bool(definition.skip_validation),
                              using_index=definition.indexname is not None)
            elif subtype in ("AT_SetNotNull", "AT_DropNotNull", "AT_DropColumn"):
                action.update(column=cmd.name)
            actions.append(action)
        return {"kind": "alter_table", "table": node.relation.relname, "actions": actions}
    if isinstance(node, ast.AlterEnumStmt):
        return {"kind": "enum_add_value"}
    if isinstance(node, ast.UpdateStmt):
        return {"kind": "update", "table": node.relation.relname}
    if isinstance(node, ast.DeleteStmt):
        return {"kind": "delete", "table": node.relation.relname}
    if isinstance(node, ast.InsertStmt):
        return {"kind": "insert", "table": node.relation.relname}
    if isinstance(node, ast.DoStmt):
        return {"kind": "do"}
    if isinstance(node, ast.TransactionStmt):
        return {}
    return {}


def _ours(stmt) -> dict:
    facts = {"kind": stmt.kind, "table": stmt.table, "concurrently": stmt.concurrently, "lock": stmt.lock}
    facts["actions"] = [
        {"kind": a.kind, "column": a.column, "type": a.type, "has_default": a.has_default, "not_null": a.not_null,
         "constraint": a.constraint, "not_valid": a.not_valid, "using_index": a.using_index}
        for a in stmt.actions
    ]
    return facts


def _mismatches(ours: dict, oracle: dict) -> list[str]:
    problems = []
    for key, expected in oracle.items():
        if key == "actions":
            got_actions = ours["actions"]
            if len(got_actions) != len(expected):
                problems.append(f"{len(got_actions)} actions, pglast has {len(expected)}")
                continue
            for number, (got, want) in enumerate(zip(got_actions, expected, strict=True)):
                for field, value in want.items():
                    if value is not None and got[field] != value:
                        problems.append(f"action {number} {field}: {got[field]!r} != pglast {value!r}")
        elif expected is not None and ours.get(key) != expected:
            problems.append(f"{key}: {ours.get(key)!r} != pglast {expected!r}")
    return problems


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
def test_extracted_facts_match_pglast_on_the_corpus() -> None:
    files = sorted(CORPUS.glob("*.sql"))
    assert len(files) > 500
    compared = 0
    problems = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        stmts, _index, _raws = prepare(text, path.name)
        oracle_stmts = pglast.parse_sql(text)
        if len(oracle_stmts) != len(stmts):
            problems.append(f"{path.name}: {len(stmts)} statements, pglast splits {len(oracle_stmts)}")
            continue
        for stmt, raw in zip(stmts, oracle_stmts, strict=True):
            expected = _oracle(raw.stmt)
            if not expected:
                continue
            compared += 1
            for problem in _mismatches(_ours(stmt), expected):
                problems.append(f"{path.name}:{stmt.line}: {problem}")
            # DO blocks: the inner statements dbops analysed must parse with pglast to the same kind
            for inner in stmt.inner:
                inner_expected = _oracle(pglast.parse_sql(inner.text)[0].stmt)
                if inner_expected:
                    for problem in _mismatches(_ours(inner), inner_expected):
                        problems.append(f"{path.name}:{inner.line} (DO): {problem}")
    assert compared > 1300
    assert problems == []
