-- The scripts' client of the SFX Sidecar bridge, without any REAPER call, so it runs (and is tested)
-- under plain Lua 5.4. Nothing here ever waits: a request returns its id at once, and poll(), called
-- from reaper.defer, reads what has arrived and calls each request's callback once, with
--   { ok = true, hits = {...} | fields = {...} | field, value | addresses = {...}, notes = {...} }
-- or { ok = false, error = "the bridge's reason" }.
--
-- Two transports: OSC over a non-blocking UDP socket (LuaSocket or mavriq-lua-sockets), or, without
-- a socket library, the `daw-bridge` command run in the background with --json (its output is read
-- from a file once the command has written its exit status).
local osc = require("sfx_sidecar.osc")
local json = require("sfx_sidecar.json")

local Client = {}
Client.__index = Client

local MAX_ID = 2147483647
local RESULT_KEYS = { "rank", "path", "CatID", "Description", "Keywords", "Duration" }

--- opts: host, port, timeout (s), clock (a function giving seconds), and either
---   socket = the LuaSocket module, or
---   exec = function(line) that starts a command without waiting, as reaper.ExecProcess does (no shell),
---   command = "daw-bridge", tmpdir = a folder for its script and output, windows = true on Windows.
function Client.new(opts)
  local self = setmetatable({
    host = opts.host or "127.0.0.1", port = opts.port or 9310, timeout = opts.timeout or 5,
    clock = opts.clock or os.time, pending = {}, last_id = 0,
  }, Client)
  if opts.socket then
    local udp = assert(opts.socket.udp())
    udp:settimeout(0)                          -- never wait: poll() reads what is there
    local ok, err = udp:setpeername(self.host, self.port)
    if not ok then error("cannot address the bridge at " .. self.host .. ":" .. self.port .. ": " .. tostring(err)) end
    self.udp, self.transport = udp, "osc"
  elseif opts.exec then
    self.exec, self.command, self.windows = opts.exec, opts.command or "daw-bridge", opts.windows
    self.tmpdir = opts.tmpdir or os.getenv("TMPDIR") or os.getenv("TEMP") or "/tmp"
    self.transport = "cli"
  else
    error("Client.new needs a socket module or an exec function")
  end
  return self
end

function Client:close()
  if self.udp then self.udp:close() end
  self.udp = nil
end

function Client:next_id()
  self.last_id = self.last_id % MAX_ID + 1
  return self.last_id
end

-- requests -------------------------------------------------------------------------------------------

function Client:search(query, limit, callback)
  return self:_request("search", "/sfx/search", "si", { query, limit or 20 }, callback,
    { "search", "--json", "--limit", tostring(limit or 20), query })
end

--- search by meaning (/sfx/meaning): the files nearest to what the text means, not to its words
function Client:meaning(text, limit, callback)
  return self:_request("search", "/sfx/meaning", "si", { text, limit or 20 }, callback,
    { "meaning", "--json", "--limit", tostring(limit or 20), text })
end

function Client:similar(path, limit, callback)
  return self:_request("search", "/sfx/similar", "si", { path, limit or 20 }, callback,
    { "similar", "--json", "--limit", tostring(limit or 20), path })
end

function Client:info(path, callback)
  return self:_request("info", "/sfx/info", "s", { path }, callback, { "info", "--json", path })
end

--- field: Description, CatID, Notes, ... ; Keywords (the whole list), Keywords+ (add), Keywords- (remove)
function Client:tag(path, field, value, callback)
  return self:_request("tag", "/sfx/tag", "sss", { path, field, value }, callback,
    { "tag", "--json", path, field, value })
end

--- which addresses the bridge answers (a script offers "more like this" only with /sfx/similar)
function Client:addresses(callback)
  return self:_request("addresses", "/sfx/addresses", "", {}, callback, { "addresses", "--json" })
end

function Client:ping(callback)
  return self:_request("ping", "/sfx/ping", "", {}, callback, { "ping" })
end

function Client:_request(kind, address, types, args, callback, argv)
  local id = self:next_id()
  local p = { kind = kind, address = address, callback = callback, hits = {}, fields = {}, notes = {},
              notices = {}, deadline = self.clock() + self.timeout }
  self.pending[id] = p
  if self.transport == "osc" then
    local ok, dgram = pcall(osc.encode, address, "i" .. types, id, table.unpack(args))
    if not ok or #dgram > 4096 then
      return self:_finish(id, { ok = false, error = "request too long for one OSC datagram" })
    end
    local sent, err = self.udp:send(dgram)
    if not sent then return self:_finish(id, { ok = false, error = "cannot send: " .. tostring(err) }) end
  else
    self:_start_command(id, p, argv)
  end
  return id
end

function Client:_finish(id, result)
  local p = self.pending[id]
  if not p then return id end
  self.pending[id] = nil
  result.id, result.notes, result.notices = id, p.notes, p.notices
  if p.callback then p.callback(result) end
  return id
end

--- Read everything that has arrived, finish what is complete or late; returns how many are pending.
function Client:poll()
  if self.transport == "osc" then
    while self.udp do
      local data = self.udp:receive()
      if not data then break end
      local msg = osc.decode(data)
      if msg then self:_on_message(msg) end
    end
  else
    -- a callback may start a new request: never add to the table being walked
    local ids = {}
    for id in pairs(self.pending) do ids[#ids + 1] = id end
    for _, id in ipairs(ids) do
      local p = self.pending[id]
      if p then self:_check_command(id, p) end
    end
  end
  local now, left = self.clock(), 0
  local late = {}
  for id, p in pairs(self.pending) do
    if now > p.deadline then late[#late + 1] = id else left = left + 1 end
  end
  for _, id in ipairs(late) do
    local p = self.pending[id]
    if p then
      for _, path in ipairs({ p.script, p.out, p.err }) do os.remove(path) end   -- the late command's files
      self:_finish(id, { ok = false, error = ("no answer from daw-bridge at %s:%d within %g s (is `daw-bridge serve` "
        .. "or `sidecar daemon` running?)"):format(self.host, self.port, self.timeout) })
    end
  end
  return left
end

-- OSC replies ------------------------------------------------------------------------------------------

function Client:_on_message(msg)
  local a = msg.args
  local id = a[1]
  if msg.address == "/sfx/error" and id == 0 then
    -- a bridge without this address cannot tell which request it was: the oldest asking it
    local unknown = tostring(a[2]):match("^unknown address (.+)$")
    local oldest
    for pid, p in pairs(self.pending) do
      if p.address == unknown and (not oldest or pid < oldest) then oldest = pid end
    end
    if oldest then self:_finish(oldest, { ok = false, error = a[2], unsupported = true }) end
    return
  end
  local p = self.pending[id]
  if not p then return end                      -- late or foreign: its request is already answered
  if msg.address == "/sfx/result" then
    local hit = {}
    for i, key in ipairs(RESULT_KEYS) do hit[key] = a[i + 1] end
    p.hits[#p.hits + 1] = hit
  elseif msg.address == "/sfx/notice" then
    p.notices[#p.notices + 1] = a[2]            -- said about the answer (a query cut short...), not an end
  elseif msg.address == "/sfx/field" then
    p.fields[#p.fields + 1] = { name = a[2], value = a[3], source = a[4] }
  elseif msg.address == "/sfx/done" then
    self:_finish(id, self:_assembled(p, a[2]))
  elseif msg.address == "/sfx/tagged" then
    self:_finish(id, { ok = true, field = a[2], value = a[3], source = a[4] })
  elseif msg.address == "/sfx/pong" then
    self:_finish(id, { ok = true })
  elseif msg.address == "/sfx/addresses" then
    local set = {}
    for word in tostring(a[2]):gmatch("%S+") do set[word] = true end
    self:_finish(id, { ok = true, addresses = set })
  elseif msg.address == "/sfx/error" then
    if tostring(a[2]):match("^result %d+:") then
      p.notes[#p.notes + 1] = a[2]              -- one hit could not be sent; the answer goes on
    else
      self:_finish(id, { ok = false, error = a[2] })
    end
  end
end

function Client:_assembled(p, count)
  if p.kind == "info" then
    local by_name = {}
    for _, f in ipairs(p.fields) do by_name[f.name] = f end
    return { ok = true, fields = p.fields, by_name = by_name, count = count }
  end
  table.sort(p.hits, function(x, y) return x.rank < y.rank end)   -- answers may arrive out of order
  return { ok = true, hits = p.hits, count = count }
end

-- the command-line fallback --------------------------------------------------------------------------
-- reaper.ExecProcess runs no shell: it splits its line on spaces, honours '...', "..." and `...` around a
-- word and passes everything else literally. So the command goes into a small script file, written here
-- with the shell's own quoting, and ExecProcess runs only `/bin/sh "<file>"` or `cmd.exe /C "<file>"`.

local function quote_sh(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- cmd.exe: "" inside quotes is a quote (for cmd and for the C runtime that splits Python's argv),
-- and a batch file expands %NAME% even inside quotes, so % is doubled.
local function quote_cmd(s)
  return '"' .. tostring(s):gsub('"', '""'):gsub("%%", "%%%%") .. '"'
end

--- The line for ExecProcess that runs a script file: the file's name in quotes it does not contain.
local function exec_line(program, file)
  for _, q in ipairs({ '"', "'", "`" }) do
    if not file:find(q, 1, true) then return ("%s %s%s%s"):format(program, q, file, q) end
  end
  return nil
end

--- The script: run the command, its output and errors to files, then its exit status, written under
--- another name and renamed, so that once the status file is there the output is complete.
function Client:_script(words, p)
  if self.windows then
    local q = quote_cmd
    local tmp = p.rc .. ".tmp"
    return table.concat({
      "@echo off",
      "chcp 65001 > NUL",                         -- read the lines below as UTF-8 (accented paths)
      'set "PYTHONUTF8=1"',                       -- and daw-bridge's reasons on stderr written as UTF-8
      ("%s > %s 2> %s"):format(table.concat(words, " "), q(p.out), q(p.err)),
      -- %ERRORLEVEL% would be expanded when a line is read; `if errorlevel N` tests it when run
      ("if errorlevel 2 (> %s echo 2) else if errorlevel 1 (> %s echo 1) else (> %s echo 0)"):format(
        q(tmp), q(tmp), q(tmp)),
      ("move /Y %s %s > NUL & exit /b 0"):format(q(tmp), q(p.rc)),
      "",
    }, "\r\n")
  end
  local q = quote_sh
  return table.concat({
    ("%s > %s 2> %s"):format(table.concat(words, " "), q(p.out), q(p.err)),
    ("echo $? > %s"):format(q(p.rc .. ".tmp")),
    ("mv %s %s"):format(q(p.rc .. ".tmp"), q(p.rc)),
    "",
  }, "\n")
end

function Client:_start_command(id, p, argv)
  local q = self.windows and quote_cmd or quote_sh
  local sep = self.windows and "\\" or "/"
  local base = ("%s%ssfx_sidecar_%d_%d_%d"):format(self.tmpdir, sep, os.time(), math.random(1, 1000000000), id)
  p.out, p.err, p.rc = base .. ".json", base .. ".err", base .. ".rc"
  p.script = base .. (self.windows and ".cmd" or ".sh")
  local words = { q(self.command) }
  for _, w in ipairs(argv) do words[#words + 1] = q(w) end
  for _, w in ipairs({ "--host", self.host, "--port", self.port }) do words[#words + 1] = q(w) end
  local line = exec_line(self.windows and "cmd.exe /C" or "/bin/sh", p.script)
  local f = line and io.open(p.script, "wb")
  if not f then
    return self:_finish(id, { ok = false, error = "cannot write the command's script in " .. self.tmpdir })
  end
  f:write(self:_script(words, p))
  f:close()
  p.deadline = p.deadline + 10                  -- the command starts a Python process first
  self.exec(line)
end

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

function Client:_check_command(id, p)
  local status = slurp(p.rc)
  if not status then return end
  local out, err = slurp(p.out) or "", slurp(p.err) or ""
  for _, path in ipairs({ p.out, p.err, p.rc, p.script }) do os.remove(path) end
  local rc = tonumber(status:match("%d+"))
  if rc ~= 0 then
    local reason = err:gsub("%s+$", ""):match("([^\n]*)$"):gsub("^Error: ", "")
    local unsupported = reason:match("^unknown address") ~= nil
    return self:_finish(id, { ok = false, error = reason ~= "" and reason or ("daw-bridge exited with " .. tostring(rc)),
                              unsupported = unsupported })
  end
  for line in err:gmatch("[^\n]+") do
    local note = line:match("^daw%-bridge: (result %d+:.*)$")
    if note then p.notes[#p.notes + 1] = note end
    local notice = line:match("^daw%-bridge: notice: (.*)$")
    if notice then p.notices[#p.notices + 1] = notice end
  end
  if p.kind == "ping" then return self:_finish(id, { ok = true }) end
  local doc, why = json.decode(out)
  if doc == nil then return self:_finish(id, { ok = false, error = "daw-bridge printed no JSON: " .. why }) end
  if p.kind == "search" then
    for _, row in ipairs(doc) do p.hits[#p.hits + 1] = row end
    return self:_finish(id, self:_assembled(p, #p.hits))
  elseif p.kind == "info" then
    for _, f in ipairs(doc.fields or {}) do p.fields[#p.fields + 1] = f end
    return self:_finish(id, self:_assembled(p, #p.fields))
  elseif p.kind == "tag" then
    return self:_finish(id, { ok = true, field = doc.field, value = doc.value, source = doc.source })
  elseif p.kind == "addresses" then
    local set = {}
    for _, a in ipairs(doc) do set[a] = true end
    return self:_finish(id, { ok = true, addresses = set })
  end
end

return Client
