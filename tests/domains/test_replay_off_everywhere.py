"""Every adapter test of a write runs with the registry's ``replay`` off (issue 10, section 1).

The simulated registry recognises a repeated idempotency key only when its account's ``replay``
setting is on; no real registry does, so the setting is off by default and the tests leave it
so. This guard reads the test suite itself: the only tests that turn ``replay`` on are the two
that prove what the knob does (in process and at the REST front end). A new test that turns it
on fails here, unless it is added to ``REPLAY_ON`` with the reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

from domains.models import RegistrarAccount
from domains.simulator.registry import SandboxRegistry

TESTS = Path(__file__).resolve().parents[1]
REPLAY_ON = {
    # What the knob does: a repeated key answers as the first call and changes nothing.
    (
        "domains/test_sandbox.py",
        "test_with_replay_on_a_repeated_key_answers_as_the_first_call_and_changes_nothing",
    ),
    # The same at the REST front end (the Idempotency-Key header replayed).
    (
        "domains/test_reseller_rest.py",
        "test_with_replay_on_the_server_answers_a_repeated_key_as_the_first_time",
    ),
}


def test_the_simulated_registry_replays_nothing_by_default():
    assert SandboxRegistry(RegistrarAccount(name="Upstream")).replay is False
    assert SandboxRegistry(RegistrarAccount(name="Upstream", settings={"balance": "9"})).replay is (
        False
    )
    assert SandboxRegistry(RegistrarAccount(name="Upstream", settings={"replay": True})).replay


def _off(value: ast.AST) -> bool:
    return isinstance(value, ast.Constant) and value.value in (False, None, 0)


def _mentions_replay(node: ast.AST) -> bool:
    """A settings dict with a ``"replay"`` key, or a ``replay=`` keyword argument, whose value
    is not plainly off."""
    if isinstance(node, ast.Dict):
        return any(
            isinstance(k, ast.Constant) and k.value == "replay" and not _off(v)
            for k, v in zip(node.keys, node.values, strict=True)
        )
    if isinstance(node, ast.Call):
        return any(k.arg == "replay" and not _off(k.value) for k in node.keywords)
    return False


def _where_replay_is_set() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in sorted(TESTS.rglob("*.py")):
        if path == Path(__file__).resolve():
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if any(_mentions_replay(node) for node in ast.walk(function)):
                found.add((path.relative_to(TESTS).as_posix(), function.name))
        # Module level (a constant or a factory default outside any function).
        for statement in tree.body:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            if any(_mentions_replay(node) for node in ast.walk(statement)):
                found.add((path.relative_to(TESTS).as_posix(), "<module>"))
        for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
            for statement in cls.body:
                if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                if any(_mentions_replay(node) for node in ast.walk(statement)):
                    found.add((path.relative_to(TESTS).as_posix(), f"{cls.name} body"))
    return found


def test_only_the_tests_of_the_knob_itself_turn_replay_on():
    assert _where_replay_is_set() == REPLAY_ON
