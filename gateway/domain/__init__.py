"""Pure domain rules of DOMAIN.md: case numbers, identity numbers, courts, time limits."""
