-- OSC 1.0 messages with the types the SFX Sidecar bridge speaks: i (int32), f (float32), s (UTF-8).
-- T, F and N carry no bytes; h, d and b are read (never sent) so a stray reply cannot stop a script.
local osc = {}

local function pad(s)
  return s .. string.rep("\0", 4 - #s % 4)       -- at least one NUL, to a multiple of 4
end

--- encode("/sfx/search", "isi", 7, "door", 20) -> datagram
function osc.encode(address, types, ...)
  local args = table.pack(...)
  types = types or ""
  if #types ~= args.n then
    error(("osc.encode: %d type tags for %d arguments"):format(#types, args.n), 2)
  end
  local out = { pad(address), pad("," .. types) }
  for i = 1, #types do
    local t, v = types:sub(i, i), args[i]
    if t == "i" then
      out[#out + 1] = string.pack(">i4", math.tointeger(v) or error("osc.encode: argument " .. i .. " is not an integer", 2))
    elseif t == "f" then
      out[#out + 1] = string.pack(">f", v)
    elseif t == "s" then
      v = tostring(v)
      if v:find("\0", 1, true) then error("osc.encode: a string may not hold NUL", 2) end
      out[#out + 1] = pad(v)
    elseif t ~= "T" and t ~= "F" and t ~= "N" then
      error("osc.encode: type '" .. t .. "' is not sent by these scripts", 2)
    end
  end
  return table.concat(out)
end

local function read_string(data, pos)
  local stop = data:find("\0", pos, true)
  if not stop then return nil, "string not terminated" end
  local s = data:sub(pos, stop - 1)
  return s, pos + (((stop - pos) // 4) + 1) * 4
end

--- decode(datagram) -> { address = "/sfx/result", types = "iisssf", args = {...} } or nil, reason
function osc.decode(data)
  if type(data) ~= "string" or data:sub(1, 1) ~= "/" then return nil, "not an OSC message" end
  local address, pos = read_string(data, 1)
  if not address then return nil, pos end
  local msg = { address = address, types = "", args = {} }
  if pos > #data then return msg end
  if data:sub(pos, pos) ~= "," then return nil, "no type tags" end
  local tags
  tags, pos = read_string(data, pos)
  if not tags then return nil, pos end
  msg.types = tags:sub(2)
  for i = 1, #msg.types do
    local t = msg.types:sub(i, i)
    local v
    if t == "i" then
      if pos + 3 > #data then return nil, "int cut short" end
      v, pos = string.unpack(">i4", data, pos)
    elseif t == "f" then
      if pos + 3 > #data then return nil, "float cut short" end
      v, pos = string.unpack(">f", data, pos)
    elseif t == "h" then
      if pos + 7 > #data then return nil, "int64 cut short" end
      v, pos = string.unpack(">i8", data, pos)
    elseif t == "d" then
      if pos + 7 > #data then return nil, "double cut short" end
      v, pos = string.unpack(">d", data, pos)
    elseif t == "s" or t == "S" then
      v, pos = read_string(data, pos)
      if not v then return nil, pos end
    elseif t == "b" then
      if pos + 3 > #data then return nil, "blob cut short" end
      local n
      n, pos = string.unpack(">i4", data, pos)
      if n < 0 or pos + n - 1 > #data then return nil, "blob cut short" end
      v = data:sub(pos, pos + n - 1)
      pos = pos + ((n + 3) // 4) * 4
    elseif t == "T" then v = true
    elseif t == "F" then v = false
    elseif t == "N" then v = nil
    else
      return nil, "unknown type tag '" .. t .. "'"
    end
    msg.args[i] = v
  end
  return msg
end

return osc
