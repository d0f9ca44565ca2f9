"""The library in a browser: search, listen, review what the machine decided and correct it.

`sidecar web` and the daemon (`[web] enabled = true`) serve one page (static/, plain JS, no build
step, nothing fetched at run time) and the JSON API under /api it is built on (schemas/web-api.json).
Every change goes through the person's edit of the OSC bridge's /sfx/tag (sidecar.pipeline.edit):
the file's claim in the work queue, the journal first, the safe writers, the sidecar marked
source="human", the index updated.
"""
