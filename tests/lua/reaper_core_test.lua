-- The REAPER scripts' core under plain Lua 5.4 with LuaSocket, against a live bridge, with a stand-in
-- `reaper` table that records every call it would make. Run by tests/test_reaper_scripts.py:
--   lua5.4 reaper_core_test.lua SCRIPTS_DIR PORT DAW_BRIDGE TMPDIR PLAIN_PORT FILE...
-- PORT is `daw-bridge serve` (which answers /sfx/similar), PLAIN_PORT a bridge built without it.
-- Prints one line per recorded REAPER call ("CALL name|arg|arg") and per check that failed
-- ("FAIL ..."), then "checks N failed M"; exits 1 when a check failed.
local scripts, port, command, tmpdir, plain_port = arg[1], tonumber(arg[2]), arg[3], arg[4], tonumber(arg[5])
local files = { table.unpack(arg, 6) }
package.path = scripts .. "/?.lua;" .. (debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "?.lua;"
  .. package.path

local socket = require("socket")
local osc = require("sfx_sidecar.osc")
local json = require("sfx_sidecar.json")
local Client = require("sfx_sidecar.client")
local Actions = require("sfx_sidecar.actions")
local View = require("sfx_sidecar.view")

local checks, failed = 0, 0
local function check(ok, what)
  checks = checks + 1
  if not ok then
    failed = failed + 1
    print("FAIL " .. what)
  end
  return ok
end

-- the stand-in reaper: every call is recorded; the answers are those of a project with two tracks, an
-- open Media Explorer, and a selected item whose take plays a reversed section of files[1]
local calls = {}
local explorer_open = 1
local function recorder(with_sws, with_js)
  local r = {}
  local function record(name, result)
    r[name] = function(...)
      local parts = { name }
      for i = 1, select("#", ...) do parts[#parts + 1] = tostring((select(i, ...))) end
      calls[#calls + 1] = table.concat(parts, "|")
      if type(result) == "function" then return result(...) end
      return result
    end
  end
  record("GetSelectedTrack", "track1")
  record("GetTrack", function(_, i) return ({ [0] = "track1", [1] = "track2" })[i] end)
  record("SetOnlyTrackSelected")
  record("GetCursorPosition", 12.5)
  record("InsertMedia", 1)
  record("SetEditCurPos")
  record("Undo_BeginBlock")
  record("Undo_EndBlock")
  record("UpdateArrange")
  record("OpenMediaExplorer", "explorer-hwnd")
  record("GetToggleCommandState", function(id) return id == 50124 and explorer_open or -1 end)
  record("GetSelectedMediaItem", "item1")
  record("GetActiveTake", "take1")
  record("GetMediaItemTake_Source", "reversed-section")
  record("GetMediaSourceParent", function(src) return ({ ["reversed-section"] = "section",
                                                         section = "file-source" })[src] end)
  record("GetMediaSourceFileName", function(src) return src == "file-source" and files[1] or "" end)
  if with_sws then
    record("PCM_Source_CreateFromFile", "pcm1")
    record("CF_CreatePreview", "preview1")
    record("CF_Preview_SetOutputTrack", true)
    record("CF_Preview_SetValue", true)
    record("CF_Preview_Play", true)
    record("CF_Preview_Stop", true)
    record("PCM_Source_Destroy")
  end
  if with_js then
    record("JS_Window_OnCommand", true)
    record("JS_WindowMessage_Send", 0)
    record("JS_Window_IsWindow", true)
  end
  return r
end

local function last_call(prefix)
  for i = #calls, 1, -1 do
    if calls[i]:sub(1, #prefix) == prefix then return calls[i] end
  end
end

-- wait for one request's answer, polling as reaper.defer would (never a blocking read)
local function answer(client, start)
  local result
  local id = start(function(r) result = r end)
  local deadline = socket.gettime() + 30
  while not result and socket.gettime() < deadline do
    client:poll()
    if not result then socket.sleep(0.002) end
  end
  check(result ~= nil, "an answer to request " .. tostring(id))
  if result then check(result.id == id, "the answer carries its request id") end
  return result or { ok = false, error = "no answer" }
end

-- 1. OSC encoding: byte for byte what the bridge's own encoder builds (checked from Python too)
io.write("DGRAM ", (osc.encode("/sfx/search", "isi", 7, "door é", 20):gsub(".", function(c)
  return ("%02x"):format(c:byte()) end)), "\n")
local m = osc.decode(osc.encode("/sfx/x", "ifsTF", -5, 0.5, "ü", true, false))
check(m and m.args[1] == -5 and m.args[2] == 0.5 and m.args[3] == "ü" and m.args[4] == true and m.args[5] == false,
      "osc round trip")
check(select(2, osc.decode("/sfx/x\0\0,s\0\0abc")) == "string not terminated", "a cut string is refused")
check(select(2, osc.decode("garbage")) == "not an OSC message", "garbage is refused")
check(json.decode('{"a": [1, "\\u00e9", null, true]}').a[2] == "é", "json decoding")
check(json.decode("[1,") == nil, "bad json is refused")

-- 2. the OSC client against the live bridge
local client = Client.new({ socket = socket, port = port, clock = socket.gettime, timeout = 10 })
check(answer(client, function(cb) return client:ping(cb) end).ok, "ping")
local addresses = answer(client, function(cb) return client:addresses(cb) end)
check(addresses.ok and addresses.addresses["/sfx/search"] and addresses.addresses["/sfx/tag"], "addresses listed")
check(addresses.addresses["/sfx/similar"], "daw-bridge serve lists /sfx/similar")

local found = answer(client, function(cb) return client:search("door", 10, cb) end)
check(found.ok and #found.hits == 2 and found.count == 2, "search finds the two doors")
for i, hit in ipairs(found.hits or {}) do
  check(hit.rank == i, "hits in rank order")
  print("HIT " .. hit.rank .. "|" .. hit.path .. "|" .. hit.CatID .. "|" .. hit.Description .. "|" .. hit.Duration)
end
-- search by meaning: "downpour" is no word of the rain file's, yet finds it first
check(addresses.addresses["/sfx/meaning"], "daw-bridge serve lists /sfx/meaning")
local meant = answer(client, function(cb) return client:meaning("heavy downpour", 10, cb) end)
check(meant.ok and meant.hits[1] ~= nil and meant.hits[1].path == files[3],
      "by meaning, the rain first: " .. tostring(meant.error or (meant.hits[1] and meant.hits[1].path)))
local long = answer(client, function(cb) return client:meaning(("heavy rain "):rep(200), 10, cb) end)
check(long.ok and #long.notices == 1 and long.notices[1]:find("256") ~= nil,
      "a query past the model's 256 tokens is searched and says so: " .. tostring(long.notices and long.notices[1]))
check(#meant.notices == 0, "a short query carries no notice")
local blank = answer(client, function(cb) return client:meaning("   ", 10, cb) end)
check(not blank.ok and blank.error:find("empty") ~= nil, "an empty meaning query is the bridge's error: "
      .. tostring(blank.error))
local bad = answer(client, function(cb) return client:search('"unbalanced', 10, cb) end)
check(not bad.ok and bad.error:find("quote") ~= nil, "a malformed query is the bridge's error: " .. tostring(bad.error))

-- twenty requests at once: each answered once, tied to its own id
local got, ids = {}, {}
for i = 1, 20 do
  local query = (i % 2 == 0) and "door" or "rain"
  ids[i] = client:search(query, 5, function(r) got[#got + 1] = { i = i, r = r, query = query } end)
end
local deadline = socket.gettime() + 30
while #got < 20 and socket.gettime() < deadline do client:poll() socket.sleep(0.002) end
check(#got == 20, "twenty answers")
for _, g in ipairs(got) do
  check(g.r.id == ids[g.i], "answer tied to its id")
  check(#g.r.hits == (g.query == "door" and 2 or 1), "each answer holds its own hits")
end

-- 3. what the scripts do in REAPER, recorded
local sws = Actions.new(recorder(true, false))
local first = found.hits[1].path
check(sws:insert(first) == 12.5, "insert at the edit cursor")
check(last_call("InsertMedia") == "InsertMedia|" .. first .. "|0", "InsertMedia with the chosen path, mode 0")
check(last_call("SetOnlyTrackSelected") == "SetOnlyTrackSelected|track1", "on the selected track")
check(sws:insert(first, true) == "bwf", "insert at the BWF time reference")
check(last_call("InsertMedia") == "InsertMedia|" .. first .. "|4096", "InsertMedia mode 4096 for BWF time")
check(sws:audition(first) == "sws", "audition through SWS")
check(last_call("PCM_Source_CreateFromFile") == "PCM_Source_CreateFromFile|" .. first, "preview of the chosen file")
check(last_call("CF_Preview_Play") == "CF_Preview_Play|preview1", "the preview plays")
check(sws:stop() and last_call("CF_Preview_Stop") == "CF_Preview_Stop|preview1", "and stops")
local second = found.hits[2].path
local function calls_since(mark, prefix)
  local out = {}
  for i = mark + 1, #calls do
    if not prefix or calls[i]:sub(1, #prefix) == prefix then out[#out + 1] = calls[i] end
  end
  return out
end
local function mark() return #calls end

-- the SWS preview through a chosen track at a chosen volume, set before it plays
local routed = Actions.new(recorder(true, false), { preview_track = 2, preview_volume_db = -6 })
local m = mark()
routed:audition(first)
local seq = calls_since(m)
local volume = seq[5] and tonumber(seq[5]:match("^CF_Preview_SetValue|preview1|D_VOLUME|(.+)$"))
check(seq[3] == "GetTrack|0|1" and seq[4] == "CF_Preview_SetOutputTrack|preview1|0|track2", "preview through track 2")
check(volume and math.abs(volume - 10 ^ (-6 / 20)) < 1e-9 and seq[6] == "CF_Preview_Play|preview1",
      "at -6 dB, set before it plays: " .. table.concat(seq, " "))
routed:stop()

-- the Media Explorer with js_ReaScriptAPI: its Stop is sent (carried out at once), never posted
local now = 0
local plain = Actions.new(recorder(false, true), { clock = function() return now end })
check(plain:audition(first, 2.0) == "media explorer", "audition without SWS")
check(last_call("OpenMediaExplorer") == "OpenMediaExplorer|" .. first .. "|true", "through the Media Explorer")
m = mark()
plain:audition(second, 2.0)
check(#calls_since(m, "JS_") == 0, "another sound replaces the last without a Stop")
now = 0.5
m = mark()
plain:audition(second, 2.0)
seq = calls_since(m, "JS_WindowMessage_Send")
local opened = calls_since(m, "OpenMediaExplorer")
check(#seq == 1 and seq[1] == "JS_WindowMessage_Send|explorer-hwnd|WM_COMMAND|1009|0|0|0",
      "the same sound again: Stop sent first")
check(#opened == 1 and opened[1] == "OpenMediaExplorer|" .. second .. "|true", "then played once (not toggled off)")
m = mark()
check(plain:stop() and calls_since(m)[#calls_since(m)] == "JS_WindowMessage_Send|explorer-hwnd|WM_COMMAND|1009|0|0|0",
      "Left stops it with the Media Explorer's Preview: Stop")
local posted = false
for _, c in ipairs(calls) do if c:find("^JS_Window_OnCommand") then posted = true end end
check(not posted, "JS_Window_OnCommand (posted, so it lands after the next play) is never used")
-- closed by the user: stopping (as at exit) does not reopen it
plain:audition(first, 2.0)
explorer_open = 0
m = mark()
check(plain:stop() == true and #calls_since(m, "OpenMediaExplorer") == 0 and #calls_since(m, "JS_") == 0,
      "a Media Explorer the user closed is not reopened")
explorer_open = 1

-- without js_ReaScriptAPI: the same sound while it still plays is toggled off and on; after its end, once
now = 0
local bare = Actions.new(recorder(false, false), { clock = function() return now end })
bare:audition(first, 2.0)
now = 1.0
m = mark()
bare:audition(first, 2.0)
check(#calls_since(m, "OpenMediaExplorer|" .. first .. "|true") == 2, "replay while playing: toggled off, then on")
now = 5.0
m = mark()
bare:audition(first, 2.0)
check(#calls_since(m, "OpenMediaExplorer|" .. first .. "|true") == 1, "replay after its end: played once")
local stopped, hint = bare:stop()
check(not stopped and hint:find("Media Explorer") ~= nil, "without SWS nor js the user is told how to stop")
m = mark()
local selected = sws:selected_source()
check(selected == files[1], "the selected item's source file, through a reversed section")
check(#calls_since(m, "GetMediaSourceParent") == 3, "parents followed until there is none")

-- 4. show tags and edit one
local info = answer(client, function(cb) return client:info(selected, cb) end)
check(info.ok and info.by_name.Description and info.by_name.Description.source == "file", "info fields with sources")
check(info.ok and info.by_name.Duration and info.by_name.Duration.source == "measured", "measured fields")
local tagged = answer(client, function(cb) return client:tag(selected, "Description", "Oak door, knocked twice", cb) end)
check(tagged.ok and tagged.field == "Description" and tagged.value == "Oak door, knocked twice", "tag written")
info = answer(client, function(cb) return client:info(selected, cb) end)
check(info.by_name.Description.value == "Oak door, knocked twice" and info.by_name.Description.source == "person",
      "the edit is a person's")
local refused = answer(client, function(cb) return client:tag("/etc/passwd", "Description", "x", cb) end)
check(not refused.ok and refused.error:find("outside the library roots") ~= nil, "a path outside the roots")

-- 5. "more like this": the library's other files, nearest first, the selected one left out
local alike = answer(client, function(cb) return client:similar(selected, 5, cb) end)
check(alike.ok and #alike.hits == #files - 1, "more like this returns the other files: " .. tostring(alike.error) .. " " .. tostring(alike.hits and #alike.hits) .. "/" .. #files)
for _, hit in ipairs(alike.hits or {}) do
  check(hit.path ~= selected, "the selected file is left out")
  print("ALIKE " .. hit.rank .. "|" .. hit.path)
end
local outside = answer(client, function(cb) return client:similar("/etc/passwd", 5, cb) end)
check(not outside.ok and outside.error:find("outside the library roots") ~= nil, "similar: a path outside the roots")
client:close()
if plain_port and plain_port > 0 then
  local plain = Client.new({ socket = socket, port = plain_port, clock = socket.gettime })
  local listed = answer(plain, function(cb) return plain:addresses(cb) end)
  check(listed.ok and not listed.addresses["/sfx/similar"], "a bridge without similarity does not list it")
  local unsupported = answer(plain, function(cb) return plain:similar(selected, 5, cb) end)
  check(not unsupported.ok and unsupported.unsupported, "a bridge without /sfx/similar: told at once")
  plain:close()
end

-- 6. a bridge that does not answer: the request ends with a reason, nothing waits
local now = 0
local silent = Client.new({ socket = socket, port = 9, clock = function() return now end, timeout = 2 })
local late
silent:ping(function(r) late = r end)
silent:poll()
check(late == nil, "still waiting")
now = 3
silent:poll()
check(late and not late.ok and late.error:find("no answer from daw%-bridge") ~= nil, "a clear timeout")
silent:close()

-- 7. the fallback without sockets: the daw-bridge command with --json, started through a stand-in for
-- reaper.ExecProcess that, like REAPER's, runs no shell (tests/lua/exec_process.lua), read back from files.
-- files[2] is named with spaces, both quote kinds, $, a backtick and accented letters.
local ExecProcess = require("exec_process")
local t = ExecProcess.tokenise([[cmd.exe /C "C:\Users\Zoë\REAPER Data\x.cmd" 'a b' `c d` e\"f]])
check(#t == 6 and t[3] == [[C:\Users\Zoë\REAPER Data\x.cmd]] and t[4] == "a b" and t[5] == "c d" and
      t[6] == [[e\"f]], "the stand-in splits like ExecProcess")
t = ExecProcess.tokenise([[/bin/sh -c 'echo '\''quoted'\'' word']])
check(#t ~= 3 or t[3] ~= "echo 'quoted' word", "the shell's '\\'' idiom does not survive ExecProcess")

local exec, exec_calls = ExecProcess.new(os.getenv("SFX_TEST_PYTHON"), os.getenv("SFX_TEST_EXEC_ARGV"), tmpdir)
local function cli_client(cmd)
  return Client.new({ exec = function(line) return exec(line, -1) end, command = cmd, port = port,
                      tmpdir = tmpdir, clock = socket.gettime, timeout = 30 })
end
local cli = cli_client(command)
local cfound = answer(cli, function(cb) return cli:search("door", 10, cb) end)
local paths = {}
for _, hit in ipairs(cfound.hits or {}) do paths[hit.path] = hit.rank end
check(cfound.ok and #cfound.hits == 2 and paths[found.hits[1].path] and paths[found.hits[2].path],
      "search through the command: " .. tostring(cfound.error))
local cmeant = answer(cli, function(cb) return cli:meaning("heavy downpour", 10, cb) end)
check(cmeant.ok and cmeant.hits[1] ~= nil and cmeant.hits[1].path == files[3],
      "by meaning through the command: " .. tostring(cmeant.error))
local clong = answer(cli, function(cb) return cli:meaning(("heavy rain "):rep(200), 10, cb) end)
check(clong.ok and #clong.notices == 1 and clong.notices[1]:find("256") ~= nil,
      "the command passes the notice on: " .. tostring(clong.notices and clong.notices[1]))
local iron = answer(cli, function(cb) return cli:search("iron", 10, cb) end)
check(iron.ok and #iron.hits == 1 and iron.hits[1].path == files[2],
      "the hard name comes back intact: " .. tostring(iron.hits and iron.hits[1] and iron.hits[1].path))
check(iron.ok and iron.hits[1].Description == "Door slam, iron \u{1F514}", "a character beyond the BMP (\\u pair)")
local placed = Actions.new(recorder(true, false))
placed:insert(iron.ok and iron.hits[1].path or "")
check(last_call("InsertMedia") == "InsertMedia|" .. files[2] .. "|0", "InsertMedia receives the hard name intact")
for _, c in ipairs(exec_calls) do
  local words = ExecProcess.tokenise(c.line)
  check(#words == 2 and words[1] == "/bin/sh" and words[2]:match("%.sh$"), "ExecProcess runs one script: " .. c.line)
end
local cinfo = answer(cli, function(cb) return cli:info(files[2], cb) end)
check(cinfo.ok and cinfo.by_name.Description ~= nil and cinfo.by_name.Description.value == "Door slam, iron \u{1F514}",
      "info through the command: " .. tostring(cinfo.error))
local ctag = answer(cli, function(cb) return cli:tag(files[2], "Keywords+", "hinge, 'quoted' word", cb) end)
check(ctag.ok and ctag.field == "Keywords" and ctag.value:find("'quoted' word", 1, true) ~= nil,
      "tag through the command, quotes intact: " .. tostring(ctag.value or ctag.error))
local notes = [[He said "slam" & it's 100% $HOME `x` é]]
local cnotes = answer(cli, function(cb) return cli:tag(files[2], "Notes", notes, cb) end)
check(cnotes.ok and cnotes.value == notes, "a value with both quotes, $, % and a backtick: " .. tostring(cnotes.value or cnotes.error))
local cbad = answer(cli, function(cb) return cli:tag(files[2], "Nope", "x", cb) end)
check(not cbad.ok and cbad.error:find("unknown field") ~= nil, "the command's refusal: " .. tostring(cbad.error))
local caddr = answer(cli, function(cb) return cli:addresses(cb) end)
check(caddr.ok and caddr.addresses["/sfx/info"], "addresses through the command")
local missing = cli_client(tmpdir .. "/no such daw-bridge")
local cmissing = answer(missing, function(cb) return missing:ping(cb) end)
check(not cmissing.ok and cmissing.error ~= "", "a command that cannot run is a failure: " .. tostring(cmissing.error))
print("MISSING " .. tostring(cmissing.error))

-- on Windows: a .cmd file run by cmd.exe /C, its exit status tested with `if errorlevel` (never %ERRORLEVEL%)
local win_lines = {}
local win = Client.new({ exec = function(line) win_lines[#win_lines + 1] = line end, command = [[C:\SFX\daw-bridge.exe]],
                         port = port, tmpdir = tmpdir, windows = true, clock = socket.gettime })
win:tag([[D:\SFX\it's "100%" é.wav]], "Notes", "x", function() end)
local wt = ExecProcess.tokenise(win_lines[1] or "")
check(#wt == 3 and wt[1] == "cmd.exe" and wt[2] == "/C" and wt[3]:match("%.cmd$"), "cmd.exe /C runs the .cmd file")
local cmd_file = wt[3] and io.open(wt[3], "rb")
local cmd_text = cmd_file and cmd_file:read("a") or ""
if cmd_file then cmd_file:close() os.remove(wt[3]) end
check(cmd_text:find("if errorlevel 1", 1, true) and not cmd_text:upper():find("%ERRORLEVEL%", 1, true),
      "the exit status is tested when it is run")
check(cmd_text:find("chcp 65001", 1, true) and cmd_text:find('set "PYTHONUTF8=1"', 1, true), "read and written as UTF-8")
check(cmd_text:find([["D:\SFX\it's ""100%%"" é.wav"]], 1, true) ~= nil, "cmd quoting: \"\" for a quote, %% for %")
print("CMD " .. cmd_text:gsub("\r\n", "\nCMD "))

-- 8. the window's keys
local view = View.new(3)
for _, c in utf8.codes("door é") do view:key(c < 128 and c or (0x75000000 + c)) end
check(view.query == "door é", "typing, unicode included")
check(view:key(View.KEY.enter) == "search", "Enter searches a new query")
view.searched = view.query
view:set_items({ { path = "/a" }, { path = "/b" }, { path = "/c" }, { path = "/d" } })
check(view:key(View.KEY.enter) == "insert" and view:current().path == "/a", "Enter inserts the selection")
view:key(View.KEY.down) view:key(View.KEY.down) view:key(View.KEY.down)
check(view:current().path == "/d" and select(1, view:visible()) == 2, "moving scrolls")
check(view:key(View.KEY.enter, 8) == "insert_bwf", "Shift+Enter at the BWF time")
check(view:key(View.KEY.right) == "audition" and view:key(View.KEY.left) == "stop", "play and stop keys")
check(view:key(View.KEY.ctrl_l) == "similar" and view:key(View.KEY.tab) == "tags", "more like this, tags")
view:key(View.KEY.backspace)
check(view.query == "door ", "backspace removes one character")

-- characters up to 255 arrive as themselves (Latin-1), beyond as 'u' << 24 | code point
local latin = View.new(3)
for _, c in ipairs({ 233, 252, 223, 241, 0x75000000 + 0x1F514 }) do latin:key(c) end
check(latin.query == "éüßñ\u{1F514}", "é ü ß ñ typed: " .. latin.query)
check(View.typed(150) == nil and View.typed(0x1000) == nil, "control codes and key codes are not typed")

-- search as you type: due once typing paused, not before, not twice, never in the tags view
local typing = View.new(3)
typing:key(string.byte("r"), 0, 10.0) typing:key(string.byte("a"), 0, 10.1)
check(not typing:search_due(10.2), "not while typing")
check(typing:search_due(10.1 + View.SEARCH_DELAY + 0.01), "once typing paused")
typing.searched = typing.query
check(not typing:search_due(20), "not twice for one query")
typing:paste("in\nsecond line", 21)
check(typing.query == "rain" and typing:search_due(22), "Ctrl+V pastes the first line, then it is searched")
check(typing:key(View.KEY.ctrl_v) == "paste", "Ctrl+V asks for the clipboard")
typing:set_items({ { name = "Description" } }, "fields")
typing:key(string.byte("x"), 0, 30)
check(typing.query == "rain" and not typing:search_due(40), "the tags view takes no typing")

-- the mouse: a click selects, a second click on the same row soon after inserts (edits a field); the wheel
local clicks = View.new(3)
clicks:set_items({ { path = "/a" }, { path = "/b" }, { path = "/c" }, { path = "/d" }, { path = "/e" } })
check(clicks:click(2, 1.0) == nil and clicks.selected == 2, "a click selects")
check(clicks:click(2, 1.2) == "insert", "a double-click inserts")
check(clicks:click(3, 1.3) == nil and clicks:click(2, 1.4) == nil, "clicks on two rows are not a double-click")
check(clicks:click(2, 3.0) == nil, "nor two clicks far apart")
check(clicks:click(9, 3.1) == nil and clicks.selected == 2, "a click below the rows does nothing")
clicks:scroll(2)
check(clicks.top == 3 and clicks.selected == 2, "the wheel scrolls, the selection stays")
clicks:scroll(10)
check(clicks.top == 3, "not past the last row")
clicks:scroll(-10)
check(clicks.top == 1, "nor above the first")
clicks:set_items({ { name = "Notes" } }, "fields")
clicks:click(1, 5.0)
check(clicks:click(1, 5.1) == "edit", "a double-click on a field edits it")

-- a leading ~ makes the query a search by meaning
check(View.meaning_of("~ heavy downpour ") == "heavy downpour", "~ starts a search by meaning")
check(View.meaning_of("~") == "" and View.meaning_of("rain ~ wind") == nil and View.meaning_of("rain") == nil,
      "only a leading ~ does")

-- long text cut to its room, at a character boundary, with an ellipsis
local function width(s) return utf8.len(s) * 7 end
check(View.fit("short", 100, width) == "short", "text that fits is left whole")
local cut = View.fit("Door slam, iron \u{1F514} and more words here", 140, width)
check(width(cut) <= 140 and cut:sub(-3) == "..." and utf8.len(cut) ~= nil, "cut to fit: " .. cut)
check(View.fit("ééééé", 10, width) == "", "no room: nothing drawn")

for _, c in ipairs(calls) do print("CALL " .. c) end
print(("checks %d failed %d"):format(checks, failed))
os.exit(failed == 0 and 0 or 1)
