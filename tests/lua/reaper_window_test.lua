-- The search window driven as a person would, outside REAPER: stand-in `reaper` and `gfx` tables, keys
-- typed one by one, reaper.defer run in a loop, against a live bridge.
--   lua5.4 reaper_window_test.lua SCRIPTS_DIR PORT RESOURCE_DIR
-- Prints "CALL ..." per REAPER call, "FAIL ..." per failed check, then "checks N failed M".
local scripts, port, resource = arg[1], arg[2], arg[3]
package.path = scripts .. "/?.lua;" .. package.path
local socket = require("socket")
local View = require("sfx_sidecar.view")

local checks, failed = 0, 0
local function check(ok, what)
  checks = checks + 1
  if not ok then failed = failed + 1 print("FAIL " .. what) end
end

local calls, frame, last_frame, deferred, at_exit = {}, {}, {}, nil, nil
local function recorded(name, result)
  return function(...)
    local parts = { name }
    for i = 1, select("#", ...) do parts[#parts + 1] = tostring((select(i, ...))) end
    calls[#calls + 1] = table.concat(parts, "|")
    return result
  end
end

reaper = {
  GetExtState = function(section, key)
    return ({ host = "127.0.0.1", port = port, timeout = "10" })[key] or ""
  end,
  GetResourcePath = function() return resource end,
  GetOS = function() return "Linux-x86_64" end,
  time_precise = socket.gettime,
  ExecProcess = recorded("ExecProcess", "0\n"),
  defer = function(f) deferred = f end,
  atexit = function(f) at_exit = f end,
  MB = recorded("MB", 1),
  GetUserInputs = function(title, n, captions, value)
    calls[#calls + 1] = "GetUserInputs|" .. title .. "|" .. value
    return true, "Edited in the window, twice"
  end,
  GetSelectedTrack = recorded("GetSelectedTrack", "track1"),
  SetOnlyTrackSelected = recorded("SetOnlyTrackSelected"),
  GetCursorPosition = recorded("GetCursorPosition", 3.0),
  InsertMedia = recorded("InsertMedia", 1),
  SetEditCurPos = recorded("SetEditCurPos"),
  Undo_BeginBlock = recorded("Undo_BeginBlock"),
  Undo_EndBlock = recorded("Undo_EndBlock"),
  UpdateArrange = recorded("UpdateArrange"),
  PCM_Source_CreateFromFile = recorded("PCM_Source_CreateFromFile", "pcm1"),
  CF_CreatePreview = recorded("CF_CreatePreview", "preview1"),
  CF_Preview_Play = recorded("CF_Preview_Play", true),
  CF_Preview_Stop = recorded("CF_Preview_Stop", true),
  PCM_Source_Destroy = recorded("PCM_Source_Destroy"),
}

-- what was drawn in the last whole frame, as text (keys are read before a frame is drawn)
local function shown() return table.concat(last_frame, "\n") end
local keys = {}                  -- { code, ready = function() -> bool }
local function type_text(text) for c in text:gmatch(".") do keys[#keys + 1] = { c:byte() } end end
local function press(code, ready, cap) keys[#keys + 1] = { code, ready = ready, cap = cap } end
local function showing(pattern) return function() return shown():find(pattern) ~= nil end end

gfx = {
  w = 760, h = 440, x = 0, y = 0, mouse_cap = 0,
  init = recorded("gfx.init"), setfont = function() end, set = function() end, rect = function() end,
  quit = recorded("gfx.quit"),
  drawstr = function(s) frame[#frame + 1] = s end,
  update = function() end,
  getchar = function()
    local k = keys[1]
    if not k then return -1 end                  -- the script has nothing more to type: close
    if k.ready and not k.ready() then return 0 end
    table.remove(keys, 1)
    gfx.mouse_cap = k.cap or 0
    return k[1]
  end,
}

local K = View.KEY
type_text("door")
press(K.enter)
press(K.right, showing("2 found"))               -- play the first result
press(K.left)                                    -- stop it
press(K.down)
press(K.enter)                                   -- insert the second at the edit cursor
press(K.enter, nil, 8)                           -- and at its BWF time (Shift+Enter)
press(K.tab)                                     -- its tags
press(K.down, showing("Enter edits the selected field"))
press(K.enter)                                   -- edit Description
press(K.escape, showing("Description written"))
press(K.escape)                                  -- clear the query
press(K.escape)                                  -- close

local Window = require("sfx_sidecar.window")
local deadline = socket.gettime() + 60
Window.run({ mode = "search" })
while deferred and socket.gettime() < deadline do
  local f = deferred
  deferred, last_frame, frame = nil, frame, {}
  f()
  socket.sleep(0.002)
end
check(deferred == nil, "the window closed when asked (Esc with an empty query)")
check(#keys == 0, "every key was taken, " .. #keys .. " left: " .. shown())
if at_exit then at_exit() end

local function called(prefix)
  for _, c in ipairs(calls) do if c:sub(1, #prefix) == prefix then return c end end
end
check(called("CF_Preview_Play|preview1"), "Right plays the selected result")
check(called("CF_Preview_Stop|preview1"), "Left stops it")
local inserted = {}
for _, c in ipairs(calls) do
  local path, mode = c:match("^InsertMedia|(.*)|(%d+)$")
  if path then inserted[#inserted + 1] = { path = path, mode = mode } end
end
check(#inserted == 2 and inserted[1].mode == "0" and inserted[2].mode == "4096", "Enter and Shift+Enter insert")
check(inserted[1] and inserted[1].path == (inserted[2] or {}).path, "the same, second result both times")
check(called("GetUserInputs|SFX Sidecar: Description|"), "Enter on a field opens the editor")
check(called("gfx.quit"), "the window is closed at exit")
for _, c in ipairs(calls) do print("CALL " .. c) end
print(("checks %d failed %d"):format(checks, failed))
os.exit(failed == 0 and 0 or 1)
