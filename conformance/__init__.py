"""Smart Community Conformance Suite: proves, by machine, that a platform conforms to the standard."""

__version__ = "0.1.0"
