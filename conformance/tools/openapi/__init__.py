"""The interface standard published for vendors' tools: the OpenAPI 3.1 document and a Schemathesis configuration."""

from .document import openapi_document, operation_id

__all__ = ["openapi_document", "operation_id"]
