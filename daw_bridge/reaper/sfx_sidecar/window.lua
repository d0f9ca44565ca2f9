-- The SFX Sidecar window in REAPER (gfx): search, results, audition, insert, "more like this", and a
-- file's tags with a small editor. It runs from reaper.defer and never waits on the bridge.
local Client = require("sfx_sidecar.client")
local Actions = require("sfx_sidecar.actions")
local View = require("sfx_sidecar.view")

local Window = {}
local SECTION = "SFX Sidecar"               -- ExtState section of the settings (host, port, command, ...)
local TITLE = "SFX Sidecar"
local AUTO_TERMINATE, TOGGLE_ON, TOGGLE_OFF = 1, 4, 8   -- reaper.set_action_options flags

local function setting(key, default)
  local value = reaper.GetExtState(SECTION, key)
  return value ~= "" and value or default
end

--- The socket library: LuaSocket, or mavriq-lua-sockets installed through ReaPack. Without one: nil and
--- one line saying why (not installed, or installed but refused, as Gatekeeper does on first run).
local function find_socket()
  local base = reaper.GetResourcePath() .. "/Scripts/Mavriq ReaScript Repository/Various/Mavriq-Lua-Sockets/"
  package.cpath = package.cpath .. ";" .. base .. "?.dll;" .. base .. "?.so;" .. base .. "?.dylib"
  package.path = package.path .. ";" .. base .. "?.lua"
  local why
  for _, name in ipairs({ "socket", "socket.core" }) do
    local ok, socket = pcall(require, name)
    if ok and type(socket) == "table" and socket.udp then return socket end
    local err = tostring(socket)
    if not ok and not err:match("^module '[^']+' not found") then
      -- "error loading module 'x' from file 'f':\n\t<the system's reason>": the reason, without the folder
      why = why or (err:match("\n%s*([^\n]+)") or err):gsub(base:gsub("%p", "%%%0"), "")
    end
  end
  return nil, why and ("the socket library did not load: " .. why) or "no socket library (Mavriq Lua Sockets)"
end

local function new_client()
  local opts = { host = setting("host", "127.0.0.1"), port = tonumber(setting("port", "9310")),
                 timeout = tonumber(setting("timeout", "5")), clock = reaper.time_precise }
  local why = "the transport setting is cli"
  if setting("transport", "auto") ~= "cli" then opts.socket, why = find_socket() end
  if not opts.socket then
    local windows = reaper.GetOS():match("^Win") ~= nil
    -- ExecProcess: -1 starts and returns at once; -2 also keeps Windows' console window minimised
    local wait = windows and -2 or -1
    opts.exec = function(line) reaper.ExecProcess(line, wait) end
    opts.command = setting("command", "daw-bridge")
    opts.windows = windows
    opts.tmpdir = reaper.GetResourcePath() .. (windows and "\\" or "/") .. "Data"
  end
  -- one line, what matters first (the window may cut its end)
  return Client.new(opts), opts.socket == nil and ("daw-bridge command line in use; " .. why) or nil
end

--- The action's toggle state (on while the window is open): with set_action_options (REAPER 7), running
--- the action again, as from its shortcut, closes the window instead of asking what to do.
local function set_toggle(on)
  if reaper.set_action_options then
    reaper.set_action_options(on and (AUTO_TERMINATE | TOGGLE_ON) or TOGGLE_OFF)
    return
  end
  local _, _, section, command = reaper.get_action_context()
  if command and command > 0 then
    reaper.SetToggleCommandState(section, command, on and 1 or 0)
    reaper.RefreshToolbar2(section, command)
  end
end

--- start: { mode = "search" } or { mode = "similar" | "tags", path = ... }
function Window.run(start)
  local client, transport_note = new_client()
  local actions = Actions.new(reaper, { preview_track = tonumber(setting("preview_track", "")),
                                        preview_volume_db = tonumber(setting("preview_volume_db", "")),
                                        clock = reaper.time_precise })
  local view = View.new(15)
  local status = client.transport == "osc" and "type a search (start with ~ to search by meaning)"
    or "using the daw-bridge command"
  local can_similar, can_meaning = false, true   -- until the bridge says which addresses it answers
  local file_path, last_results = nil, {}
  local search_seq, searching = 0, false
  local placement = {}                        -- the window's dock state and undocked position, kept each frame

  local function say(text) status = text end

  local function show_results(r, what)
    if not r.ok then return say(r.error) end
    last_results = r.hits
    view:set_items(r.hits, "results")
    local notes = #r.notes > 0 and (" (" .. #r.notes .. " could not be sent)") or ""
    if r.notices and #r.notices > 0 then notes = notes .. "; " .. table.concat(r.notices, "; ") end
    say(("%d %s%s   Enter or double-click insert, Shift+Enter at BWF time, Right play, Left stop, Tab tags%s"):format(
      #r.hits, what, notes, can_similar and ", Ctrl+L more like this" or ""))
  end

  local function search()
    view.searched = view.query
    local text = View.meaning_of(view.query)       -- "~heavy downpour": by meaning, not by words
    if text == "" then return say("type what you hear after ~ (English words: heavy downpour, canine)") end
    if text and not can_meaning then return say("this bridge has no search by meaning (/sfx/meaning)") end
    search_seq = search_seq + 1
    local mine = search_seq
    searching = true
    say(text and "searching by meaning ..." or "searching ...")
    local function answered(r)
      if mine ~= search_seq then return end      -- a later search replaced this one
      searching = false
      if text and not r.ok and r.unsupported then can_meaning = false end
      show_results(r, text and "found by meaning" or "found")
    end
    if text then client:meaning(text, 100, answered) else client:search(view.query, 100, answered) end
  end

  local function show_fields(path, done)
    file_path = path
    say("reading the tags of " .. path)
    client:info(path, function(r)
      if not r.ok then return say(r.error) end
      view:set_items(r.fields, "fields")
      say((done and (done .. "; ") or "") .. "Enter or double-click edits the selected field, Esc goes back")
    end)
  end

  local function similar(path)
    if not can_similar then return say("this bridge has no similarity search (/sfx/similar)") end
    say("looking for sounds like " .. path)
    search_seq = search_seq + 1
    client:similar(path, 50, function(r) show_results(r, "sounding alike") end)
  end

  local function edit(field)
    local name = field.name
    local editable = { Description = 1, Keywords = 1, CatID = 1, FXName = 1, Notes = 1, Category = 1,
                       SubCategory = 1, TrackTitle = 1, Library = 1, Designer = 1, Microphone = 1,
                       MicPerspective = 1, Location = 1, UserComments = 1, ShortID = 1, RecMedium = 1,
                       Manufacturer = 1, URL = 1 }
    if not editable[name] then return say(name .. " is measured from the audio, not edited") end
    local ok, value = reaper.GetUserInputs("SFX Sidecar: " .. name, 1,
      name .. ":,extrawidth=500,separator=\n", field.value or "")
    if not ok then return end
    say("writing " .. name .. " ...")
    client:tag(file_path, name, value, function(r)
      if not r.ok then return say(r.error) end
      show_fields(file_path, r.field .. " written (now a person's)")
    end)
  end

  local function act(action)
    local hit = view:current()
    if action == "search" then search()
    elseif action == "insert" or action == "insert_bwf" then
      if searching then return say("still searching: Enter again when the results are in") end
      local where, err = actions:insert(hit.path, action == "insert_bwf")
      say(where and ("inserted " .. hit.path) or err)
    elseif action == "audition" then
      local how, err = actions:audition(hit.path, tonumber(hit.Duration))
      say(how and ("playing (" .. how .. ")") or err)
    elseif action == "stop" then
      local ok, hint = actions:stop()
      if not ok then say(hint) end
    elseif action == "similar" then similar(hit.path)
    elseif action == "tags" then show_fields(hit.path)
    elseif action == "edit" then edit(hit)
    elseif action == "back" then view:set_items(last_results, "results")
    elseif action == "paste" then
      if not reaper.CF_GetClipboard then return say("pasting needs the SWS extension (CF_GetClipboard)") end
      view:paste(reaper.CF_GetClipboard(), reaper.time_precise())
    end
  end

  -- drawing: sizes scale with gfx.ext_retina (2 on a Retina or HiDPI screen)
  local scale, row, pad, list_top = 1, 18, 8, 0
  local function measure(s) return (gfx.measurestr(s)) end
  local function text(s, x, y, right)
    gfx.x, gfx.y = x, y
    gfx.drawstr(View.fit(s, right - x, measure))
  end

  local function draw()
    gfx.set(0.12, 0.12, 0.12) gfx.rect(0, 0, gfx.w, gfx.h, 1)
    local right = gfx.w - pad
    gfx.set(1, 1, 1)
    text(view.mode == "fields" and ("Tags of " .. (file_path or "")) or ("Search: " .. view.query .. "_"), pad, pad, right)
    gfx.set(0.6, 0.6, 0.6)
    text(status, pad, pad + row, right)
    local footer = transport_note and 1 or 0
    list_top = pad + 2 * row + 4 * scale
    view.rows = math.max(1, math.floor((gfx.h - list_top - (1 + footer) * row) / row))
    local first, last = view:visible()
    for i = first, last do
      local item, y = view.items[i], list_top + (i - first) * row
      if i == view.selected then gfx.set(0.25, 0.35, 0.55) gfx.rect(pad // 2, y - 2 * scale, gfx.w - pad, row, 1) end
      gfx.set(1, 1, 1)
      if view.mode == "fields" then
        local source_x = gfx.w - 90 * scale
        text(item.name, pad, y, pad + 120 * scale)
        text(item.value, pad + 124 * scale, y, source_x - 4 * scale)
        gfx.set(0.6, 0.8, 0.6) text(item.source, source_x, y, right)
      else
        local seconds_x = gfx.w - 70 * scale
        local name, seconds = View.result_line(item)
        text(item.CatID or "", pad, y, pad + 110 * scale)
        text(name, pad + 114 * scale, y, seconds_x - 4 * scale)
        text(seconds, seconds_x, y, right)
      end
    end
    if transport_note then
      gfx.set(0.8, 0.65, 0.3)
      text(transport_note, pad, gfx.h - row, right)
    end
    gfx.update()
  end

  -- the mouse: a click selects a row, a second click on it inserts (or edits a field), the wheel scrolls
  local was_down = false
  local function mouse()
    local down = gfx.mouse_cap & 1 == 1
    if down and not was_down and gfx.mouse_y >= list_top then
      local first = view:visible()
      local action = view:click(first + math.floor((gfx.mouse_y - list_top) / row), reaper.time_precise())
      if action then act(action) end
    end
    was_down = down
    if gfx.mouse_wheel ~= 0 then
      view:scroll(-3 * math.floor(gfx.mouse_wheel / 120 + 0.5))
      gfx.mouse_wheel = 0
    end
  end

  local w, h = tonumber(setting("window_w", "760")), tonumber(setting("window_h", "440"))
  local dock = tonumber(setting("window_dock", "0"))
  local x, y = tonumber(setting("window_x", "")), tonumber(setting("window_y", ""))
  gfx.ext_retina = 1                            -- ask for HiDPI; REAPER sets the real factor at init
  if x and y then gfx.init(TITLE, w, h, dock, x, y) else gfx.init(TITLE, w, h, dock) end
  scale = math.max(1, gfx.ext_retina or 1)
  row, pad = math.floor(18 * scale), math.floor(8 * scale)
  gfx.setfont(1, "Arial", math.floor(14 * scale))
  set_toggle(true)
  -- what the bridge answers decides whether "more like this" is offered
  client:addresses(function(r)
    if not r.ok then return say("bridge: " .. r.error) end
    can_similar = r.addresses["/sfx/similar"] == true
    can_meaning = r.addresses["/sfx/meaning"] == true
    if start.mode == "similar" then similar(start.path) end
  end)
  if start.mode == "tags" then show_fields(start.path) end

  local function loop()
    local c = gfx.getchar()
    if c < 0 then return end                      -- the window was closed
    placement = { gfx.dock(-1, 0, 0, 0, 0) }      -- dock state, then x, y, w, h when undocked
    if c > 0 then
      local action = view:key(c, gfx.mouse_cap, reaper.time_precise())
      if action == "close" then return end
      if action then act(action) end
    end
    mouse()
    if view:search_due(reaper.time_precise()) then search() end
    client:poll()
    draw()
    reaper.defer(loop)
  end

  reaper.atexit(function()
    local d, px, py, pw, ph = table.unpack(placement)
    if d then
      reaper.SetExtState(SECTION, "window_dock", tostring(math.floor(d)), true)
      if pw and pw > 0 and ph > 0 then
        for key, v in pairs({ window_x = px, window_y = py, window_w = pw, window_h = ph }) do
          reaper.SetExtState(SECTION, key, tostring(math.floor(v)), true)
        end
      end
    end
    actions:stop()
    client:close()
    set_toggle(false)
    gfx.quit()
  end)
  loop()
end

--- For the scripts that start from the selected item.
function Window.selected_source()
  local path, err = Actions.new(reaper):selected_source()
  if not path then reaper.MB(err, "SFX Sidecar", 0) end
  return path
end

return Window
