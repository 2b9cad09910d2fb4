"""Every file the suite reads or writes, handled one way: bounded strict loaders and atomic writes.

Inputs (profiles, credentials, attestations, waivers, baselines, reports) are read with a size cap,
refused when they hold NUL bytes or are not UTF-8, and parsed with bounded nesting and YAML alias
expansion. A problem is one :class:`~conformance.errors.UsageError` line that names the file and
never quotes it (a mistyped ``--credentials /etc/shadow`` must not print the file). Outputs are
written to a temporary file in the same directory and renamed over the target, which replaces a
planted symlink instead of following it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
import yaml.cyaml

from .errors import UsageError

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "LoadError",
    "StrictLoader",
    "data_file",
    "field_name",
    "json_file",
    "json_text",
    "line_of",
    "read_text",
    "remove_file",
    "schema_problems",
    "write_file",
    "yaml_file",
    "yaml_text",
    "yaml_with_lines",
]

MAX_BYTES = {"profile": 1 << 20, "report": 128 << 20, "baseline": 128 << 20}
DEFAULT_MAX_BYTES = 1 << 20  # credentials, waivers, attestations: small, hand-written files
MAX_DEPTH = 64  # nesting of mappings and sequences
MAX_NODES = 1_000_000  # values after expanding YAML aliases (a 351-byte alias bomb expands to billions)


class LoadError(UsageError):
    """An input file cannot be read safely; ``line`` is 1-based when known."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        self.line = line
        super().__init__(message)


def read_text(path: str | Path, kind: str) -> str:
    """The file as text: at most its kind's size, UTF-8, no NUL byte; never a symlink loop or a device."""
    file = Path(path)
    limit = MAX_BYTES.get(kind, DEFAULT_MAX_BYTES)
    try:
        if file.exists() and not file.is_file():
            raise LoadError(f"the {kind} file {file} is not a regular file")
        with open(file, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise LoadError(f"cannot read the {kind} file {file}: {exc.strerror or type(exc).__name__}") from None
    if len(data) > limit:
        raise LoadError(f"the {kind} file {file} is larger than {limit >> 20} MiB; a {kind} file is never that large")
    if b"\x00" in data:
        raise LoadError(f"the {kind} file {file} contains NUL bytes: it is binary, not a {kind} file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LoadError(f"the {kind} file {file} is not UTF-8 text (byte {exc.start})") from None


# libyaml's event parser where PyYAML was built with it: scanning and parsing are 90 % of reading a profile in
# pure Python (~0.9 s for the bundled ones per process). Its own composer (C, recursive, unbounded) is not used:
# nodes are composed by PyYAML's Python composer below, so the depth bound holds.
_EVENTS: tuple[type, ...] = (yaml.cyaml.CParser,) if getattr(yaml, "__with_libyaml__", False) else (
    yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser)


class StrictLoader(yaml.composer.Composer, *_EVENTS, yaml.constructor.SafeConstructor,  # type: ignore[misc]
                   yaml.resolver.Resolver):
    """PyYAML's safe loader with bounded depth and alias expansion, and dates left as strings.

    Dates stay strings so a loader that wants one parses it strictly (``2026-13-45`` is an error
    message, not a ``ValueError`` from inside PyYAML), and a datetime is never taken for a date.
    """

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream: str) -> None:
        if _EVENTS[0] is yaml.reader.Reader:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
        else:
            yaml.cyaml.CParser.__init__(self, stream)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            mark = self.peek_event().start_mark
            raise LoadError(f"nested more than {MAX_DEPTH} levels deep", line=mark.line + 1)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self) -> Any:
        node = super().get_single_node()
        if node is not None:
            _check_expansion(node)
        return node


def _check_expansion(root: yaml.Node) -> None:
    """Refuse a document whose aliases expand to more than ``MAX_NODES`` values or ``MAX_DEPTH`` levels."""
    sizes: dict[int, int] = {}
    depths: dict[int, int] = {}

    def measure(node: yaml.Node) -> tuple[int, int]:
        key = id(node)
        if key in sizes:
            return sizes[key], depths[key]
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        sizes[key], depths[key] = 1, 1  # a recursive alias counts once instead of looping
        size, depth = 1, 1
        for child in children:
            child_size, child_depth = measure(child)
            size += child_size
            depth = max(depth, child_depth + 1)
            if size > MAX_NODES or depth > MAX_DEPTH:
                raise LoadError(f"its aliases expand to more than {MAX_NODES:,} values or {MAX_DEPTH} levels "
                                "(a YAML alias bomb?)", line=node.start_mark.line + 1)
        sizes[key], depths[key] = size, depth
        return size, depth

    measure(root)


def yaml_text(text: str, where: str) -> Any:
    """Parse YAML with :class:`StrictLoader`; errors name ``where`` and a line, never the content."""
    loader = StrictLoader(text)
    try:
        return loader.get_single_data()
    except LoadError as exc:
        raise LoadError(f"{where}:{exc.line}: {exc}" if exc.line else f"{where}: {exc}", line=exc.line) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise LoadError(f"{where}:{line}: not valid YAML ({exc.problem or 'syntax error'})", line=line) from None
    except (yaml.YAMLError, RecursionError, ValueError, TypeError) as exc:
        raise LoadError(f"{where}: not valid YAML ({type(exc).__name__})") from None
    finally:
        loader.dispose()


def yaml_file(path: str | Path, kind: str) -> Any:
    return yaml_text(read_text(path, kind), str(path))


def json_file(path: str | Path, kind: str) -> Any:
    """Parse a JSON file strictly: no NaN/Infinity, bounded nesting; errors name the line, never the content."""
    return json_text(read_text(path, kind), path, kind)


def json_text(text: str, path: str | Path, kind: str) -> Any:
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise LoadError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})", line=exc.lineno) from None
    except RecursionError:
        raise LoadError(f"{path}: the JSON is nested too deeply to be a {kind} file") from None
    except ValueError as exc:
        raise LoadError(f"{path}: not valid JSON ({exc})") from None
    if _depth(data) > MAX_DEPTH:
        raise LoadError(f"{path}: the JSON is nested more than {MAX_DEPTH} levels deep; a {kind} file is not")
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            return depth
        if isinstance(item, dict):
            stack += [(v, depth + 1) for v in item.values()]
        elif isinstance(item, list):
            stack += [(v, depth + 1) for v in item]
    return deepest


def write_file(path: str | Path, data: str | bytes, *, mode: int | None = None, root: str | Path | None = None) -> Path:
    """Write ``data`` atomically: a temporary file beside ``path``, then a rename over it.

    The rename replaces whatever ``path`` was, a symlink included, so a link planted in an output is never
    followed. Everything happens through descriptors of directories opened without following a link, so a
    directory swapped for a link while the suite writes cannot redirect a write (or leave a ``.tmp`` file
    elsewhere): with ``root`` (an output directory the user named, such as ``--report-dir``), no directory
    between it and the file may be a link, and ``..`` cannot leave it; without, ``path``'s own directory
    may not be a link.
    """
    file = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with _directory(file, root) as directory:
        _replace_at(directory, file.name, raw, mode if mode is not None else 0o666 & ~_umask(), file)
    return file


def remove_file(path: str | Path, *, root: str | Path) -> bool:
    """Delete ``path`` (below the output directory ``root``) if it is there; never through a link. Whether it was."""
    file = Path(path)
    try:
        with _directory(file, root, create=False) as directory:
            os.unlink(file.name, dir_fd=directory)
    except FileNotFoundError:
        return False
    return True


@contextlib.contextmanager
def _directory(file: Path, root: str | Path | None, *, create: bool = True) -> Iterator[int]:
    """A descriptor of ``file``'s directory, reached without following a link the suite did not name."""
    if root is None:
        base, parts = file.parent, ()
    else:
        base = Path(root)
        try:
            parts = file.parent.relative_to(base).parts
        except ValueError:
            raise UsageError(f"refusing to write {file}: it is not inside {base}") from None
        if any(part in ("..", ".", "") for part in parts) or file.name in ("..", ".", ""):
            raise UsageError(f"refusing to write {file}: it is not inside {base}")
    if create:
        base.mkdir(parents=True, exist_ok=True)
    try:  # the directory the user named: links before its last component are theirs, its last is not followed
        fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | (os.O_NOFOLLOW if root is None else 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP or (exc.errno == errno.ENOTDIR and base.is_symlink()):
            raise UsageError(f"refusing to write {file}: its directory {base} is a symbolic link") from None
        raise
    try:
        for index, part in enumerate(parts):
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, dir_fd=fd)
            try:
                child = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    where = base.joinpath(*parts[:index + 1])
                    raise UsageError(f"refusing to write {file}: {where} is a symbolic link or not a directory") \
                        from None
                raise
            os.close(fd)
            fd = child
        yield fd
    finally:
        os.close(fd)


def _replace_at(directory: int, name: str, raw: bytes, mode: int, shown: Path) -> None:
    """Write ``raw`` to a new temporary file in ``directory``, then rename it over ``name``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(100):
        temporary = f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            handle = os.open(temporary, flags, 0o600, dir_fd=directory)
            break
        except FileExistsError:
            continue
    else:
        raise UsageError(f"cannot write {shown}: no temporary file could be created beside it")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(raw)
            os.fchmod(out.fileno(), mode)
        if _is_directory_at(directory, name):
            raise IsADirectoryError(errno.EISDIR, "Is a directory", str(shown))
        os.replace(temporary, name, src_dir_fd=directory, dst_dir_fd=directory)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary, dir_fd=directory)
        raise


def _is_directory_at(directory: int, name: str) -> bool:
    try:
        return stat.S_ISDIR(os.stat(name, dir_fd=directory, follow_symlinks=False).st_mode)
    except FileNotFoundError:
        return False


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


JsonPath = tuple[str | int, ...]


def yaml_with_lines(text: str, where: str) -> tuple[Any, dict[JsonPath, int]]:
    """Parse YAML strictly into plain data and a map from each value's path to its 1-based line."""
    loader = StrictLoader(text)
    lines: dict[JsonPath, int] = {}

    def build(node: yaml.Node, at: JsonPath) -> Any:
        lines[at] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = loader.construct_object(key_node, deep=True)
                key = key if isinstance(key, (str, int, float, bool)) or key is None else str(key)
                lines[at + (str(key),)] = key_node.start_mark.line + 1
                result[key] = build(value_node, at + (str(key),))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [build(child, at + (i,)) for i, child in enumerate(node.value)]
        return loader.construct_object(node, deep=True)

    try:
        node = loader.get_single_node()
        return (None if node is None else build(node, ())), lines
    except LoadError as exc:
        raise LoadError(f"{where}:{exc.line}: {exc}" if exc.line else f"{where}: {exc}", line=exc.line) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise LoadError(f"{where}:{line}: not valid YAML ({exc.problem or 'syntax error'})", line=line) from None
    except (yaml.YAMLError, RecursionError, ValueError, TypeError) as exc:
        raise LoadError(f"{where}: not valid YAML ({type(exc).__name__})") from None
    finally:
        loader.dispose()


def data_file(path: str | Path, kind: str) -> tuple[Any, dict[JsonPath, int]]:
    """A YAML or JSON input (by suffix) with its line map (empty for JSON)."""
    if Path(path).suffix == ".json":
        return json_file(path, kind), {}
    return yaml_with_lines(read_text(path, kind), str(path))


def line_of(lines: dict[JsonPath, int], at: JsonPath) -> int | None:
    while at not in lines and at:
        at = at[:-1]
    return lines.get(at)


def field_name(at: JsonPath) -> str:
    out = ""
    for part in at:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out or "(top level)"


def schema_problems(data: Any, schema_file: str, where: str, lines: dict[JsonPath, int],
                    messages: dict[tuple[str, str], str] | None = None) -> list[str]:
    """``file:line: field: problem`` for each way ``data`` breaks our schema ``schema_file``; values never quoted.

    ``messages`` maps (last field name, validator) — or (field, "*") — to a message of the caller's.
    """
    import difflib

    import jsonschema

    from .resources import schemas_dir

    schema = json.loads((schemas_dir() / "suite" / schema_file).read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        at: JsonPath = tuple(error.absolute_path)
        message = f"does not match the published schema schemas/suite/{schema_file} ({error.validator})"
        if error.validator == "required" and isinstance(error.instance, dict):
            missing = next((k for k in error.validator_value if k not in error.instance), "?")
            at, message = at + (missing,), f"missing required field {missing!r}"
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = list(error.schema.get("properties", {}))
            extra = next((k for k in error.instance if k not in allowed), "?")
            close = difflib.get_close_matches(str(extra), allowed, n=1, cutoff=0.6)
            at = at + (str(extra),)
            message = f"unknown field {str(extra)[:40]!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
        elif error.validator == "type":
            message = f"must be of type {error.validator_value}"
        elif error.validator in ("minLength", "minProperties"):
            message = "must not be empty"
        elif error.validator == "pattern":
            message = f"has characters outside {error.validator_value}"
        name = str(at[-1]) if at else ""
        custom = messages or {}
        message = custom.get((name, str(error.validator)), custom.get((name, "*"), message))
        line = line_of(lines, at)
        problems.append(f"{where}:{line}: {field_name(at)}: {message}" if line else
                        f"{where}: {field_name(at)}: {message}")
    return problems
