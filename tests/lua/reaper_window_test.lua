-- The search window driven as a person would, outside REAPER: stand-in `reaper` and `gfx` tables, keys
-- typed and the mouse clicked frame by frame, reaper.defer run in a loop, against a live bridge.
--   lua5.4 reaper_window_test.lua SCRIPTS_DIR PORT RESOURCE_DIR MODE [DAW_BRIDGE]
-- MODE "osc": LuaSocket, REAPER 7 (set_action_options). MODE "cli": the socket library is present but
-- does not load (as when Gatekeeper blocks it), so the window runs daw-bridge through a stand-in for
-- reaper.ExecProcess that runs no shell; REAPER 6 (no set_action_options).
-- Prints "CALL ..." per REAPER call, "FAIL ..." per failed check, then "checks N failed M".
local scripts, port, resource, mode, command = arg[1], arg[2], arg[3], arg[4] or "osc", arg[5]
local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
package.path = scripts .. "/?.lua;" .. here .. "?.lua;" .. package.path
local socket = require("socket")
local View = require("sfx_sidecar.view")
local ExecProcess = require("exec_process")

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
    if type(result) == "function" then return result(...) end
    return result
  end
end

local settings = { host = "127.0.0.1", port = port, timeout = "10", window_w = "760", window_h = "440",
                   window_dock = "0", window_x = "100", window_y = "120", command = command }
local exec, exec_calls = ExecProcess.new(os.getenv("SFX_TEST_PYTHON") or "python3",
                                         os.getenv("SFX_TEST_EXEC_ARGV") or "", resource .. "/Data")
reaper = {
  GetExtState = function(section, key) return section == "SFX Sidecar" and settings[key] or "" end,
  SetExtState = recorded("SetExtState"),
  GetResourcePath = function() return resource end,
  GetOS = function() return "Linux-x86_64" end,
  time_precise = socket.gettime,
  ExecProcess = function(line, timeout)
    calls[#calls + 1] = "ExecProcess|" .. line .. "|" .. tostring(timeout)
    return exec(line, timeout)
  end,
  defer = function(f) deferred = f end,
  atexit = function(f) at_exit = f end,
  get_action_context = function() return false, "SFX Sidecar - Search.lua", 0, 55555, -1, -1, -1, "" end,
  SetToggleCommandState = recorded("SetToggleCommandState", true),
  RefreshToolbar2 = recorded("RefreshToolbar2"),
  MB = recorded("MB", 1),
  GetUserInputs = function(title, n, captions, value)
    calls[#calls + 1] = "GetUserInputs|" .. title .. "|" .. value
    return true, "Edited in the window, twice"
  end,
  CF_GetClipboard = recorded("CF_GetClipboard", "door\nand a second line"),
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
if mode == "osc" then
  reaper.set_action_options = recorded("set_action_options")
else
  -- a socket library that is there but will not load: the window must say so in one line
  settings.transport = "auto"
  local base = resource .. "/Scripts/Mavriq ReaScript Repository/Various/Mavriq-Lua-Sockets/"
  os.execute(("mkdir -p '%s'"):format(base))
  local f = assert(io.open(base .. "socket.so", "wb"))
  f:write("not a shared library")
  f:close()
  package.loaded.socket, package.loaded["socket.core"] = nil, nil
  package.cpath = ""
  package.path = scripts .. "/?.lua;" .. here .. "?.lua"
end

-- what was drawn in the last whole frame, as text (keys are read before a frame is drawn)
local function shown() local t = {} for _, d in ipairs(last_frame) do t[#t + 1] = d.s end return table.concat(t, "\n") end
local events = {}                -- { code, ready = function() -> bool, cap, mouse = {x, y, down}, wheel }
local function press(code, ready, cap) events[#events + 1] = { code, ready = ready, cap = cap } end
local function showing(pattern) return function() return shown():find(pattern) ~= nil end end
local function click(x, y)
  events[#events + 1] = { 0, mouse = { x, y, true } }
  events[#events + 1] = { 0, mouse = { x, y, false } }
end

local CHAR_W = 7
local drawn_past_edge, clipped = {}, false
gfx = {
  w = 760, h = 440, x = 0, y = 0, mouse_cap = 0, mouse_x = 0, mouse_y = 0, mouse_wheel = 0, ext_retina = 0,
  init = function(...)
    recorded("gfx.init")(...)
    calls[#calls + 1] = "ext_retina at init|" .. tostring(gfx.ext_retina)
    gfx.ext_retina = 2                           -- as REAPER does on a HiDPI screen
  end,
  setfont = recorded("gfx.setfont"), set = function() end, rect = function() end,
  measurestr = function(s) return utf8.len(s) * CHAR_W, 14 end,
  dock = function(v) if v == -1 then return 0, 130, 140, 610, 450 end end,
  quit = recorded("gfx.quit"),
  drawstr = function(s)
    frame[#frame + 1] = { s = s, x = gfx.x }
    if s:sub(-3) == "..." then clipped = true end
    if gfx.x + utf8.len(s) * CHAR_W > gfx.w then drawn_past_edge[#drawn_past_edge + 1] = s end
  end,
  update = function() end,
  getchar = function()
    local k = events[1]
    if not k then return -1 end                  -- the script has nothing more to do: close
    if k.ready and not k.ready() then return 0 end
    table.remove(events, 1)
    gfx.mouse_cap = k.cap or 0
    if k.mouse then
      gfx.mouse_x, gfx.mouse_y = k.mouse[1], k.mouse[2]
      gfx.mouse_cap = k.mouse[3] and 1 or 0
    end
    if k.wheel then gfx.mouse_wheel = k.wheel end
    return k[1]
  end,
}

-- at ext_retina 2: pad 16, row 36, the list starts at 16 + 2 * 36 + 8 = 96; row 2 spans 132..168
local K = View.KEY
press(K.ctrl_v)                                  -- paste "door" (the clipboard's first line)
press(K.right, showing("2 found"))               -- searched by itself once typing paused; play the first
press(K.left)                                    -- stop it
click(60, 140)                                   -- select the second result
click(60, 140)                                   -- and double-click it: inserted at the edit cursor
events[#events + 1] = { 0, wheel = -120 }        -- the wheel (two rows: nothing to scroll)
press(K.enter, nil, 8)                           -- Shift+Enter: the same at its BWF time
press(K.tab)                                     -- its tags
press(K.down, showing("Enter or double%-click edits the selected field"))
press(K.enter)                                   -- edit Description
press(K.escape, showing("Description written"))
press(233) press(223)                            -- é and ß, as gfx.getchar gives them (Latin-1)
press(K.escape, showing("Search: door\u{e9}\u{df}_"))   -- clear the query
for ch in ("~heavy downpour"):gmatch(".") do press(ch:byte()) end   -- ~: search by meaning
local by_meaning                                 -- the frame that showed its answer
press(K.escape, function()
  if shown():find("found by meaning", 1, true) then by_meaning = shown() return true end
  return false
end)                                             -- then clear the query
press(K.escape)                                  -- close

local Window = require("sfx_sidecar.window")
local deadline = socket.gettime() + 120
Window.run({ mode = "search" })
while deferred and socket.gettime() < deadline do
  local f = deferred
  deferred, last_frame, frame = nil, frame, {}
  f()
  socket.sleep(0.002)
end
check(deferred == nil, "the window closed when asked (Esc with an empty query)")
check(#events == 0, "every event was taken, " .. #events .. " left: " .. shown())
if at_exit then at_exit() end

local function called(prefix)
  for _, c in ipairs(calls) do if c:sub(1, #prefix) == prefix then return c end end
end
local function index_of(prefix)
  for i, c in ipairs(calls) do if c:sub(1, #prefix) == prefix then return i end end
end
check(called("CF_GetClipboard"), "Ctrl+V pastes from the clipboard")
-- "~heavy downpour": no word of the rain file's, found first by meaning (rows are drawn top down)
local rain_at, door_at = (by_meaning or ""):find("Rain on a roof", 1, true), (by_meaning or ""):find("Door ", 1, true)
check(by_meaning and by_meaning:find("Search: ~heavy downpour_", 1, true) and rain_at and (not door_at or rain_at < door_at),
      "~ searches by meaning, the rain first: " .. tostring(by_meaning))
check(called("CF_Preview_Play|preview1"), "Right plays the selected result")
check(called("CF_Preview_Stop|preview1"), "Left stops it")
local inserted = {}
for _, c in ipairs(calls) do
  local path, how = c:match("^InsertMedia|(.*)|(%d+)$")
  if path then inserted[#inserted + 1] = { path = path, mode = how } end
end
check(#inserted == 2 and inserted[1].mode == "0" and inserted[2].mode == "4096", "double-click and Shift+Enter insert")
check(inserted[1] and inserted[1].path == (inserted[2] or {}).path, "the same, second result both times")
check(called("GetUserInputs|SFX Sidecar: Description|"), "Enter on a field opens the editor")
check(called("gfx.quit"), "the window is closed at exit")
-- the window's place: restored from ExtState, asked for HiDPI, saved at exit
check(called("gfx.init|SFX Sidecar|760|440|0|100|120"), "opened where it was left")
check(called("ext_retina at init|1"), "gfx.ext_retina set before gfx.init")
check(called("gfx.setfont|1|Arial|28"), "the font scaled by ext_retina")
for _, key in ipairs({ "window_dock|0", "window_x|130", "window_y|140", "window_w|610", "window_h|450" }) do
  check(called("SetExtState|SFX Sidecar|" .. key .. "|true"), "saved at exit: " .. key)
end
check(clipped and #drawn_past_edge == 0, "long text is cut to the window: " .. table.concat(drawn_past_edge, " / "))
if mode == "osc" then
  local on, off = index_of("set_action_options|5"), index_of("set_action_options|8")
  check(on and off and on < off, "toggle on (and end on relaunch) while open, off at exit")
else
  local on, off = index_of("SetToggleCommandState|0|55555|1"), index_of("SetToggleCommandState|0|55555|0")
  check(on and off and on < off and called("RefreshToolbar2|0|55555"), "REAPER 6: the toggle state set and cleared")
  local note
  for _, d in ipairs(last_frame) do
    if d.s:find("command line in use", 1, true) then note = d.s end
  end
  print("NOTE " .. tostring(note))
  check(note and note:find("daw-bridge command line in use; the socket library did not load: ", 1, true) == 1,
        "one line says why the socket library did not load and that the command line is used")
  check(#exec_calls >= 4, "requests went through ExecProcess")
  for _, c in ipairs(exec_calls) do
    local words = ExecProcess.tokenise(c.line)
    check(c.timeout == -1 and #words == 2 and words[1] == "/bin/sh", "ExecProcess(line, -1) runs a script: " .. c.line)
  end
end
for _, c in ipairs(calls) do print("CALL " .. c) end
print(("checks %d failed %d"):format(checks, failed))
os.exit(failed == 0 and 0 or 1)
