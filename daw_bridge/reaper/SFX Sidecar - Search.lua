-- @description SFX Sidecar: search the sound library, audition and insert at the edit cursor
-- @version 1.0
-- @author SFX Sidecar
-- @about
--   Type a search in Soundminer's language; Up/Down move, Right plays, Left stops, Enter inserts
--   on the selected track at the edit cursor (Shift+Enter at the file's BWF time reference),
--   Tab shows and edits the tags, Ctrl+L finds sounds like the selected one.
--   Needs `daw-bridge serve` or `sidecar daemon` running.
-- @provides
--   [nomain] sfx_sidecar/*.lua
--   [main] SFX Sidecar - Tags of selected item.lua
--   [main] SFX Sidecar - More like selected item.lua
local dir = debug.getinfo(1, "S").source:match("^@?(.*[/\\])") or ""
package.path = dir .. "?.lua;" .. package.path
require("sfx_sidecar.window").run({ mode = "search" })
