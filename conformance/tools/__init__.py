"""Tools for standards bodies: profile lint, diff and traceability matrix, and the OpenAPI document."""
