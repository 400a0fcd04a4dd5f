"""`vault daemon`: one process owns a shared vault; clients reach it through a Unix socket.

`command` parses the arguments, `server` serves, `handlers` maps requests to core calls,
`wire` is the format on the socket (shared with `vault.client.remote`), `system` the OS parts.
"""
