"""Reference torch metanets (see each module)."""
