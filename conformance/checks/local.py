"""Local profiles: records conform to the schema a local standard names (national schema plus its extensions)."""

from __future__ import annotations

from collections.abc import Iterator

from ..results import Finding
from ..session import CheckContext
from . import check
from ._expect import require_json, require_status, schema_findings


@check("local.conforms")
def conforms(ctx: CheckContext, *, collection: str, fixtures: list[str], schema: str) -> Iterator[Finding]:
    """Records created from the fixtures, as created and as read back, are valid against the local ``schema``."""
    coll = ctx.collection(collection)
    for fixture in fixtures:
        _, entity = ctx.create(collection, ctx.fixture(fixture), purpose=f"a {coll.entity} from {fixture!r}")
        yield from schema_findings(ctx, schema, entity, what=f"the created {coll.entity} ({fixture})")
        read = ctx.get(ctx.item_path(collection, str(entity["id"])))
        require_status(read, 200)
        yield from schema_findings(ctx, schema, require_json(read), what=f"{coll.entity} {entity['id']} read back")
