"""Pre-flight checks on untrusted bytes before any parser sees them, split by format."""
