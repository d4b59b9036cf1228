"""The import contracts of .importlinter hold: the app layers of DESIGN.md, the layers inside
domains, and no production code importing the simulated registry (``lint-imports`` also runs in
``make lint`` and CI; this test makes ``make test`` catch a broken layer too)."""

from pathlib import Path

from importlinter import cli

ROOT = Path(__file__).resolve().parent.parent


def test_the_import_contracts_hold(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    status = cli.lint_imports(config_filename=str(ROOT / ".importlinter"), no_cache=True)
    assert status == cli.EXIT_STATUS_SUCCESS, capsys.readouterr().out
