"""Every public name is exported, importable, and the entry point stays cheap to import."""

import subprocess
import sys

import conformance


def test_all_is_sorted_and_every_name_resolves():
    assert conformance.__all__ == sorted(conformance.__all__)
    for name in conformance.__all__:
        assert getattr(conformance, name) is not None


def test_exported_objects_are_the_modules_own():
    assert conformance.Verdict.__module__ == "conformance.verdicts"
    assert conformance.load_profile.__module__ == "conformance.profiles"


def test_importing_the_pytest_entry_point_does_not_load_the_machinery():
    code = ("import sys, conformance.plugin; "
            "print(any(m in sys.modules for m in ('jsonschema', 'httpx', 'fastapi', 'conformance.suite')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
