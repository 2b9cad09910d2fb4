"""Reports built from the one result model: report.json (the contract), a Markdown summary, a badge."""

from .build import REPORT_VERSION, build_report, summarise
from .write import write_reports

__all__ = ["REPORT_VERSION", "build_report", "summarise", "write_reports"]
