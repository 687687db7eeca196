"""Time limits, reminders and escalation (CONTRACTS.md section 8, DOMAIN.md section 5).

    calendar.py   counting deadlines: Civil Procedure Law rules over the statutory calendar
    timers.py     durable timers in the state store, and the steps (reminders, rungs) of a cycle
    reactions.py  what a court event does to a timer (stop, pause, restart in full)
    items.py      which item an accepted write created (the key of its timer and its route)
    listener.py   a timer starts when the gateway accepts a write
    engine.py     the background job that fires due steps by SMS, once, on any number of workers
    board.py      the overdue board's view of open timers
    service.py    all of it built from one config, for gateway/app.py

docs/sla.md is the operator's and the court's description.
"""
