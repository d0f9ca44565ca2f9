-- A small JSON decoder for what `daw-bridge ... --json` prints (the scripts' fallback without sockets).
-- decode(text) -> value, or nil and a reason with the byte position. null decodes to json.null.
local json = { null = setmetatable({}, { __tostring = function() return "null" end }) }

local escapes = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }

local function fail(pos, what) error({ pos = pos, what = what }, 0) end

local function skip(s, pos)
  return s:find("[^ \t\r\n]", pos) or #s + 1
end

local decode_value

local function decode_string(s, pos)
  local out, i = {}, pos + 1
  while true do
    local j = s:find('["\\%c]', i)
    if not j then fail(pos, "unterminated string") end
    out[#out + 1] = s:sub(i, j - 1)
    local c = s:sub(j, j)
    if c == '"' then return table.concat(out), j + 1 end
    if c ~= "\\" then fail(j, "control character in string") end
    local e = s:sub(j + 1, j + 1)
    if escapes[e] then
      out[#out + 1] = escapes[e]
      i = j + 2
    elseif e == "u" then
      local hex = s:match("^%x%x%x%x", j + 2)
      if not hex then fail(j, "bad \\u escape") end
      local code = tonumber(hex, 16)
      i = j + 6
      if code >= 0xD800 and code <= 0xDBFF then        -- a surrogate pair makes one character
        local low = s:match("^\\u(%x%x%x%x)", i)
        local lc = low and tonumber(low, 16)
        if not lc or lc < 0xDC00 or lc > 0xDFFF then fail(j, "lone surrogate") end
        code = 0x10000 + ((code - 0xD800) << 10) + (lc - 0xDC00)
        i = i + 6
      end
      out[#out + 1] = utf8.char(code)
    else
      fail(j, "bad escape")
    end
  end
end

local function decode_number(s, pos)
  local text = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
  local n = text and tonumber(text)
  if not n then fail(pos, "bad number") end
  return n, pos + #text
end

local function decode_list(s, pos, close, item)
  local out = {}
  pos = skip(s, pos + 1)
  if s:sub(pos, pos) == close then return out, pos + 1 end
  while true do
    pos = item(out, pos)
    pos = skip(s, pos)
    local c = s:sub(pos, pos)
    if c == close then return out, pos + 1 end
    if c ~= "," then fail(pos, "expected ',' or '" .. close .. "'") end
    pos = skip(s, pos + 1)
  end
end

decode_value = function(s, pos)
  pos = skip(s, pos)
  local c = s:sub(pos, pos)
  if c == "{" then
    return decode_list(s, pos, "}", function(out, p)
      if s:sub(p, p) ~= '"' then fail(p, "expected a key") end
      local key
      key, p = decode_string(s, p)
      p = skip(s, p)
      if s:sub(p, p) ~= ":" then fail(p, "expected ':'") end
      out[key], p = decode_value(s, p + 1)
      return p
    end)
  elseif c == "[" then
    return decode_list(s, pos, "]", function(out, p)
      local v
      v, p = decode_value(s, p)
      out[#out + 1] = v
      return p
    end)
  elseif c == '"' then
    return decode_string(s, pos)
  elseif s:sub(pos, pos + 3) == "true" then return true, pos + 4
  elseif s:sub(pos, pos + 4) == "false" then return false, pos + 5
  elseif s:sub(pos, pos + 3) == "null" then return json.null, pos + 4
  elseif c:match("[-%d]") then return decode_number(s, pos)
  end
  fail(pos, c == "" and "unexpected end" or "unexpected '" .. c .. "'")
end

function json.decode(text)
  if type(text) ~= "string" then return nil, "not text" end
  local ok, value, pos = pcall(decode_value, text, 1)
  if not ok then
    if type(value) == "table" then return nil, ("%s at byte %d"):format(value.what, value.pos) end
    return nil, tostring(value)
  end
  if skip(text, pos) <= #text then return nil, ("trailing text at byte %d"):format(skip(text, pos)) end
  return value
end

return json
