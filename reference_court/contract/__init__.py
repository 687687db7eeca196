"""The reference court's own reading of the contract: DOMAIN.md's rules and CONTRACTS.md's shapes.

Written here, not imported from ``gateway``, on purpose: a court that validated requests with the
gateway's own models and parsers would agree with every mistake the gateway makes. This copy is
written from the documents, so a difference between the two shows up as a failing test or a
``verify-backend`` check instead of passing silently. Nothing in this package imports the gateway
(``tests/boundaries/test_package_boundaries.py`` holds it to that).
"""
