"""Small payload programs shipped with OneGrid (the default production payload)."""
