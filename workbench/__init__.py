"""What puts the gateway, the reference court and the channel stand-ins together on one machine.

It lives beside ``gateway/`` and ``reference_court/`` because it needs both, and the gateway
never imports the reference court: ``court-gateway demo`` reaches it through the entry point
group ``court_gateway.commands``.
"""
