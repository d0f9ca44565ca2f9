-- The SFX Sidecar window in REAPER (gfx): search, results, audition, insert, "more like this", and a
-- file's tags with a small editor. It runs from reaper.defer and never waits on the bridge.
local Client = require("sfx_sidecar.client")
local Actions = require("sfx_sidecar.actions")
local View = require("sfx_sidecar.view")

local Window = {}
local SECTION = "SFX Sidecar"               -- ExtState section of the settings (host, port, command)
local ROW = 18

local function setting(key, default)
  local value = reaper.GetExtState(SECTION, key)
  return value ~= "" and value or default
end

--- The socket library: LuaSocket, or mavriq-lua-sockets installed through ReaPack; nil without one.
local function find_socket()
  local base = reaper.GetResourcePath() .. "/Scripts/Mavriq ReaScript Repository/Various/Mavriq-Lua-Sockets/"
  package.cpath = package.cpath .. ";" .. base .. "?.dll;" .. base .. "?.so;" .. base .. "?.dylib"
  package.path = package.path .. ";" .. base .. "?.lua"
  for _, name in ipairs({ "socket", "socket.core" }) do
    local ok, socket = pcall(require, name)
    if ok and type(socket) == "table" and socket.udp then return socket end
  end
  return nil
end

local function new_client()
  local opts = { host = setting("host", "127.0.0.1"), port = tonumber(setting("port", "9310")),
                 timeout = tonumber(setting("timeout", "5")), clock = reaper.time_precise }
  opts.socket = setting("transport", "auto") ~= "cli" and find_socket() or nil
  if not opts.socket then
    local windows = reaper.GetOS():match("^Win") ~= nil
    opts.exec = function(line) reaper.ExecProcess(line, -1) end   -- -1: start it and return at once
    opts.command = setting("command", "daw-bridge")
    opts.windows = windows
    opts.tmpdir = reaper.GetResourcePath() .. (windows and "\\" or "/") .. "Data"
  end
  return Client.new(opts)
end

--- start: { mode = "search" } or { mode = "similar" | "tags", path = ... }
function Window.run(start)
  local client = new_client()
  local actions = Actions.new(reaper)
  local view = View.new(15)
  local status = client.transport == "osc" and "type a search, Enter" or "no socket library: using the daw-bridge command"
  local can_similar = false
  local file_path, last_results = nil, {}

  local function say(text) status = text end


  local function show_results(r, what)
    if not r.ok then return say(r.error) end
    last_results = r.hits
    view:set_items(r.hits, "results")
    local notes = #r.notes > 0 and (" (" .. #r.notes .. " could not be sent)") or ""
    say(("%d %s%s   Enter insert, Shift+Enter at BWF time, Right play, Left stop, Tab tags%s"):format(
      #r.hits, what, notes, can_similar and ", Ctrl+L more like this" or ""))
  end

  local function show_fields(path, done)
    file_path = path
    say("reading the tags of " .. path)
    client:info(path, function(r)
      if not r.ok then return say(r.error) end
      view:set_items(r.fields, "fields")
      say((done and (done .. "; ") or "") .. "Enter edits the selected field (Keywords: the whole list), Esc goes back")
    end)
  end

  local function similar(path)
    if not can_similar then return say("this bridge has no similarity search (/sfx/similar)") end
    say("looking for sounds like " .. path)
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
    if action == "search" then
      view.searched = view.query
      say("searching ...")
      client:search(view.query, 100, function(r) show_results(r, "found") end)
    elseif action == "insert" or action == "insert_bwf" then
      local where, err = actions:insert(hit.path, action == "insert_bwf")
      say(where and ("inserted " .. hit.path) or err)
    elseif action == "audition" then
      local how, err = actions:audition(hit.path)
      say(how and ("playing (" .. how .. ")") or err)
    elseif action == "stop" then
      local ok, hint = actions:stop()
      if not ok then say(hint) end
    elseif action == "similar" then similar(hit.path)
    elseif action == "tags" then show_fields(hit.path)
    elseif action == "edit" then edit(hit)
    elseif action == "back" then view:set_items(last_results, "results")
    end
  end

  local function draw()
    gfx.set(0.12, 0.12, 0.12) gfx.rect(0, 0, gfx.w, gfx.h, 1)
    gfx.set(1, 1, 1) gfx.x, gfx.y = 8, 8
    gfx.drawstr((view.mode == "fields" and ("Tags of " .. (file_path or "")) or ("Search: " .. view.query .. "_")))
    gfx.set(0.6, 0.6, 0.6) gfx.x, gfx.y = 8, 8 + ROW
    gfx.drawstr(status)
    view.rows = math.max(1, math.floor((gfx.h - 3 * ROW - 16) / ROW))
    local first, last = view:visible()
    for i = first, last do
      local item, y = view.items[i], 16 + (i - first + 2) * ROW
      if i == view.selected then gfx.set(0.25, 0.35, 0.55) gfx.rect(4, y - 2, gfx.w - 8, ROW, 1) end
      gfx.set(1, 1, 1) gfx.x, gfx.y = 8, y
      if view.mode == "fields" then
        gfx.drawstr(("%-14s %s"):format(item.name, item.value))
        gfx.set(0.6, 0.8, 0.6) gfx.x = gfx.w - 90 gfx.drawstr(item.source)
      else
        local text, seconds = View.result_line(item)
        gfx.drawstr(text)
        gfx.x = gfx.w - 70 gfx.drawstr(seconds)
      end
    end
    gfx.update()
  end

  gfx.init("SFX Sidecar", 760, 440, 0)
  gfx.setfont(1, "Arial", 14)
  -- what the bridge answers decides whether "more like this" is offered
  client:addresses(function(r)
    if not r.ok then return say("bridge: " .. r.error) end
    can_similar = r.addresses["/sfx/similar"] == true
    if start.mode == "similar" then similar(start.path) end
  end)
  if start.mode == "tags" then show_fields(start.path) end

  local function loop()
    local c = gfx.getchar()
    if c < 0 then return end                      -- the window was closed
    if c > 0 then
      local action = view:key(c, gfx.mouse_cap)
      if action == "close" then return end
      if action then act(action) end
    end
    client:poll()
    draw()
    reaper.defer(loop)
  end

  reaper.atexit(function()
    actions:stop()
    client:close()
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
