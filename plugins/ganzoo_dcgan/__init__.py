"""Built-in ganzoo plugin (placeholder until filled)."""
