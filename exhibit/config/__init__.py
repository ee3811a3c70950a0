"""The designer's config: schema (typed dataclasses) and loader (complete validation)."""
