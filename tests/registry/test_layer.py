"""The service is a layer of its own (ARCHITECTURE.md): it reaches the suite only through the ``sc-conformance``
command and report.json, and the suite never imports the service (only the entry point names it)."""

import ast
from pathlib import Path

import conformance
import conformance_registry


def imported_modules(package):
    root = Path(package.__file__).parent
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                yield path, [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                yield path, [node.module]


def test_the_service_imports_nothing_of_the_suite():
    found = [(path.name, name) for path, names in imported_modules(conformance_registry) for name in names
             if name == "conformance" or name.startswith("conformance.")]
    assert found == []


def test_the_suite_imports_nothing_of_the_service():
    found = [(path.name, name) for path, names in imported_modules(conformance) for name in names
             if name.startswith("conformance_registry")]
    assert found == []


def test_the_registry_command_comes_from_the_entry_point():
    from importlib.metadata import entry_points

    (entry,) = [e for e in entry_points(group="sc_conformance.commands") if e.name == "registry"]
    assert entry.load() is conformance_registry.main
    assert sorted(conformance_registry.__all__) == conformance_registry.__all__


def test_ci_installs_the_parts_the_registry_tests_start():
    ci = (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text(encoding="utf-8")
    install = ci[ci.index("apt-get install"):ci.index(">/dev/null; }")]
    assert "postgresql" in install.split() and "redis-server" in install.split()


def test_the_suite_cli_hands_registry_to_the_entry_point(capsys):
    from conformance.cli import main

    assert main(["registry", "frobnicate"]) == 2
    assert capsys.readouterr().err.startswith("sc-conformance registry: error: argument command: invalid choice")
    assert main(["registry", "--help"]) == 0
    assert "serve,certify,recertify,verify,revoke" in capsys.readouterr().out
