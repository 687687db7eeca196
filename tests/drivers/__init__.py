"""One driver per adapter: how a test signs a person in and calls an operation through that channel.

The table-driven contract test and the parity test run over every driver in
:data:`DRIVERS` (each adapter's tests register theirs there), so adding an
adapter means adding a driver, and the shared tests cover it automatically.
"""
