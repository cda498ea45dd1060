"""Rule files: loading, checking and applying the YAML rules of a client company."""
