-- @description SFX Sidecar: find sounds like the selected item's source file
-- @version 1.1
-- @author SFX Sidecar
-- @about
--   Lists the library's nearest sounds to the selected item's source, when the bridge offers
--   similarity search (/sfx/similar); audition and insert them as in the search window.
-- @noindex
local dir = debug.getinfo(1, "S").source:match("^@?(.*[/\\])") or ""
package.path = dir .. "?.lua;" .. package.path
local Window = require("sfx_sidecar.window")
local path = Window.selected_source()
if path then Window.run({ mode = "similar", path = path }) end
