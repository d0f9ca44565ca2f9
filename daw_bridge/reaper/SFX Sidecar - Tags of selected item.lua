-- @description SFX Sidecar: show and edit the tags of the selected item's source file
-- @version 1.1
-- @author SFX Sidecar
-- @about
--   Shows every field the library index holds for the file, with where it came from (person,
--   machine, measured). Enter edits a field; the edit is written into the file, its sidecar and
--   the index as a person's, and `sidecar undo` reverts it.
-- @noindex
local dir = debug.getinfo(1, "S").source:match("^@?(.*[/\\])") or ""
package.path = dir .. "?.lua;" .. package.path
local Window = require("sfx_sidecar.window")
local path = Window.selected_source()
if path then Window.run({ mode = "tags", path = path }) end
