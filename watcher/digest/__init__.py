"""Change digests: collect what a channel has not had, render it, deliver it exactly once.

``collect`` chooses changes and feed notices, ``render`` words them in every format,
``outbox`` records and sends them once, ``email`` and ``apprise`` are the channels,
``service`` ties them together for the command, the demo and the daemon.
"""
