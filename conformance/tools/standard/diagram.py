"""A lifecycle as an inline SVG state diagram, laid out here (no Mermaid, no script).

States sit in columns by their longest distance from the initial state (back edges ignored), the
longest path on the first row; each transition is an arrow with its number, the row of the
transitions table that names its roles. A final state has a double border; a filled dot points at
the initial state. Text is escaped; the picture carries a <title> per state and transition.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from ...catalogue import Lifecycle

__all__ = ["lifecycle_svg", "numbered"]

_W, _H = 124, 38  # a state's box
_DX, _DY = 172, 92  # distance between columns and rows
_MARGIN_X, _MARGIN_Y = 46, 70


def numbered(lifecycle: Lifecycle) -> list[tuple[int, object]]:
    """The transitions with the numbers the diagram shows."""
    return list(enumerate(lifecycle.transitions, start=1))


def _back_edges(lifecycle: Lifecycle) -> set[tuple[str, str]]:
    back: set[tuple[str, str]] = set()
    state: dict[str, int] = {}  # 1 on the stack, 2 done

    def visit(node: str) -> None:
        state[node] = 1
        for t in lifecycle.transitions:
            if t.source != node:
                continue
            if state.get(t.target) == 1:
                back.add((t.source, t.target))
            elif t.target not in state:
                visit(t.target)
        state[node] = 2

    visit(lifecycle.initial)
    return back


def _layout(lifecycle: Lifecycle) -> dict[str, tuple[int, int]]:
    back = _back_edges(lifecycle)
    forward = [t for t in lifecycle.transitions if (t.source, t.target) not in back]
    rank = {lifecycle.initial: 0}
    for _ in lifecycle.states:  # longest path in a DAG by relaxation
        for t in forward:
            if t.source in rank and rank.get(t.target, -1) < rank[t.source] + 1:
                rank[t.target] = rank[t.source] + 1
    unreachable = [s for s in lifecycle.states if s not in rank]
    for state in unreachable:
        rank[state] = 0
    # the longest path takes row 0
    end = max(rank, key=lambda s: (rank[s], s in lifecycle.final))
    main = [end]
    while main[-1] != lifecycle.initial:
        before = [t.source for t in forward if t.target == main[-1] and rank.get(t.source) == rank[main[-1]] - 1]
        if not before:
            break
        main.append(before[0])
    rows: dict[int, int] = {}
    place = {}
    for s in main:
        place[s] = (rank[s], 0)
        rows[rank[s]] = 1
    for s in lifecycle.states:
        if s not in place:
            place[s] = (rank[s], rows.get(rank[s], 0) + (1 if s in unreachable else 0))
            rows[rank[s]] = place[s][1] + 1
    return place


def _centre(cell: tuple[int, int]) -> tuple[float, float]:
    return _MARGIN_X + cell[0] * _DX + _W / 2, _MARGIN_Y + cell[1] * _DY + _H / 2


def lifecycle_svg(lifecycle: Lifecycle) -> Markup:
    place = _layout(lifecycle)
    columns = max(c for c, _ in place.values()) + 1
    rows = max(r for _, r in place.values()) + 1
    width = _MARGIN_X * 2 + (columns - 1) * _DX + _W
    height = _MARGIN_Y + (rows - 1) * _DY + _H + 60
    name = escape(lifecycle.name)
    parts = [
        (f'<svg xmlns="http://www.w3.org/2000/svg" class="lifecycle" viewBox="0 0 {width} {height}" '
         f'width="{width}" height="{height}" role="img" aria-labelledby="lc-{name}">'),
        f'<title id="lc-{name}">{name}</title>',
        (f'<defs><marker id="arrow-{name}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
         'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#57606a"/></marker></defs>'),
    ]
    back = _back_edges(lifecycle)
    pairs = {(t.source, t.target) for t in lifecycle.transitions}
    for number, t in numbered(lifecycle):
        parts.append(_edge(number, t, place, (t.source, t.target) in back, (t.target, t.source) in pairs,
                           f"arrow-{escape(lifecycle.name)}"))
    ix, iy = _centre(place[lifecycle.initial])
    parts.append(f'<circle cx="{ix - _W / 2 - 30}" cy="{iy}" r="6" fill="#24292f"/>'
                 f'<line x1="{ix - _W / 2 - 24}" y1="{iy}" x2="{ix - _W / 2}" y2="{iy}" stroke="#24292f" '
                 f'stroke-width="1.5" marker-end="url(#arrow-{escape(lifecycle.name)})"/>')
    for state, cell in place.items():
        cx, cy = _centre(cell)
        x, y = cx - _W / 2, cy - _H / 2
        final = state in lifecycle.final
        parts.append(f'<g class="state{" final" if final else ""}" data-state="{escape(state)}">'
                     f'<title>{escape(state)}</title>'
                     f'<rect x="{x}" y="{y}" width="{_W}" height="{_H}" rx="8" fill="#f6f8fa" stroke="#24292f" '
                     f'stroke-width="1.5"/>')
        if final:
            parts.append(f'<rect x="{x + 3}" y="{y + 3}" width="{_W - 6}" height="{_H - 6}" rx="6" fill="none" '
                         'stroke="#24292f" stroke-width="1"/>')
        parts.append(f'<text x="{cx}" y="{cy + 5}" text-anchor="middle" font-size="13" '
                     f'font-family="sans-serif">{escape(state)}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _edge(number: int, t: object, place: dict[str, tuple[int, int]], is_back: bool, has_reverse: bool,
          marker: str) -> str:
    source, target = place[t.source], place[t.target]  # type: ignore[attr-defined]
    (sx, sy), (tx, ty) = _centre(source), _centre(target)
    if is_back or source[0] == target[0] or (target[0] - source[0] > 1 and source[1] == target[1]):
        # an arc over the boxes, from the top of one box to the top of the other
        start, end = (sx, sy - _H / 2), (tx, ty - _H / 2)
        lift = 34 + 14 * abs(target[0] - source[0])
        control = ((start[0] + end[0]) / 2, min(start[1], end[1]) - lift)
        if is_back:
            control = (control[0], control[1] - 6)
    else:
        going_right = tx >= sx
        start = (sx + _W / 2, sy) if going_right else (sx - _W / 2, sy)
        end = (tx - _W / 2, ty) if going_right else (tx + _W / 2, ty)
        bend = 18 if has_reverse else 0
        control = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 - bend)
    mx = 0.25 * start[0] + 0.5 * control[0] + 0.25 * end[0]
    my = 0.25 * start[1] + 0.5 * control[1] + 0.25 * end[1]
    roles = ", ".join(t.roles)  # type: ignore[attr-defined]
    label = f"{number}. {t.source} → {t.target}: {roles}"  # type: ignore[attr-defined]
    return (f'<g class="transition" data-from="{escape(t.source)}" data-to="{escape(t.target)}">'  # type: ignore
            f'<title>{escape(label)}</title>'
            f'<path d="M{start[0]:.1f},{start[1]:.1f} Q{control[0]:.1f},{control[1]:.1f} {end[0]:.1f},{end[1]:.1f}" '
            f'fill="none" stroke="#57606a" stroke-width="1.5" marker-end="url(#{marker})"/>'
            f'<circle cx="{mx:.1f}" cy="{my:.1f}" r="9" fill="#ffffff" stroke="#0969da"/>'
            f'<text x="{mx:.1f}" y="{my + 4:.1f}" text-anchor="middle" font-size="11" font-family="sans-serif" '
            f'fill="#0969da">{number}</text></g>')
