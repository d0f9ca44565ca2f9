-- @description SFX Sidecar: search the sound library, audition and insert at the edit cursor
-- @version 1.2
-- @author SFX Sidecar
-- @about
--   Type a search in Soundminer's language (it starts once you pause; Ctrl+V pastes), or ~ and what you
--   hear to search by meaning (~heavy downpour finds rain not tagged "downpour"); Up/Down, the
--   wheel or a click select, Right plays, Left stops, Enter or a double-click inserts on the selected
--   track at the edit cursor (Shift+Enter at the file's BWF time reference), Tab shows and edits the
--   tags, Ctrl+L finds sounds like the selected one. Running the action again closes the window.
--   Needs `daw-bridge serve` or `sidecar daemon` running.
-- @changelog
--   A query starting with ~ searches by meaning (/sfx/meaning), through OSC or the daw-bridge command.
-- @provides
--   [nomain] sfx_sidecar/*.lua
--   [main] SFX Sidecar - Tags of selected item.lua
--   [main] SFX Sidecar - More like selected item.lua
local dir = debug.getinfo(1, "S").source:match("^@?(.*[/\\])") or ""
package.path = dir .. "?.lua;" .. package.path
require("sfx_sidecar.window").run({ mode = "search" })
