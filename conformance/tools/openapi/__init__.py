"""The interface standard published for vendors' tools: the OpenAPI 3.1 document and a Schemathesis configuration."""

from .document import openapi_document, operation_id
from .schemathesis import schemathesis_config, write_schemathesis_config

__all__ = ["openapi_document", "operation_id", "schemathesis_config", "write_schemathesis_config"]
