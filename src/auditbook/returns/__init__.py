"""The returns layer: untrusted files made safe to read, read, coerced, traced to their spec and validated."""
