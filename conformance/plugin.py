"""pytest11 entry point: options and markers only; the machinery loads when a run asks for it."""

from __future__ import annotations

import pytest

from .options import add_options

MARKERS = (
    "requirement(id, level, subsystem): a requirement of a conformance profile",
    "shall: a SHALL requirement",
    "should: a SHOULD requirement",
    "may: a MAY requirement",
    "infrastructure: a requirement of the infrastructure sub-system",
    "governance_service: a requirement of the governance-and-service sub-system",
    "guarantee: a requirement of the guarantee sub-system",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sc-conformance", "smart-community conformance")
    add_options(group.addoption, prefix="sc-")


def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    if config.getoption("sc_base_url") or config.getoption("sc_profile") or config.getoption("sc_fault") or config.getoption("sc_variant") or config.getoption("sc_standard"):
        from .standards import activate, resolve_standards
        from .suite import ConformancePlugin

        # local standards first (--sc-standard, or a profile inside a standard's folder): before any profile loads
        activate(resolve_standards(config.getoption("sc_standard") or (), config.getoption("sc_profile") or ()))

        config.pluginmanager.register(ConformancePlugin(config), ConformancePlugin.name)
