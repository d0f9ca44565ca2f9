-- A stand-in for reaper.ExecProcess(line, timeout) that treats its line as REAPER does on macOS and
-- Linux: no shell. The line is split on spaces; a word that starts with ', " or ` runs to the matching
-- quote, which is removed; everything else (backslashes, $, a quote inside a word) is passed literally.
-- The words are then run as an argv, with no shell, by exec_argv.py (the one shell command here is a
-- fixed line of our own that names the helper and a file of NUL-separated words).
local ExecProcess = {}

function ExecProcess.tokenise(line)
  local words, i, n = {}, 1, #line
  while i <= n do
    while line:sub(i, i) == " " do i = i + 1 end
    if i > n then break end
    local c = line:sub(i, i)
    if c == '"' or c == "'" or c == "`" then
      local close = line:find(c, i + 1, true) or (n + 1)
      words[#words + 1] = line:sub(i + 1, close - 1)
      i = close + 1
    else
      local space = line:find(" ", i, true) or (n + 1)
      words[#words + 1] = line:sub(i, space - 1)
      i = space
    end
  end
  return words
end

local function sh_quoted(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

--- new(python, helper, scratch) -> a function(line, timeout) like reaper.ExecProcess, and the calls made
function ExecProcess.new(python, helper, scratch)
  local calls, count = {}, 0
  python, helper = sh_quoted(python), sh_quoted(helper)
  local function exec(line, timeout)
    calls[#calls + 1] = { line = line, timeout = timeout }
    local words = ExecProcess.tokenise(line)
    count = count + 1
    local argv_file = ("%s/argv_%d_%d"):format(scratch, os.time(), count)
    local quoted_file = sh_quoted(argv_file)
    local f = assert(io.open(argv_file, "wb"))
    f:write(table.concat(words, "\0"))
    f:close()
    if timeout == 0 or (timeout and timeout > 0) then
      os.execute(("%s %s %s"):format(python, helper, quoted_file))
      return "0\n"
    end
    os.execute(("%s %s %s &"):format(python, helper, quoted_file))   -- -1 and -2: start it, return at once
    return ""
  end
  return exec, calls
end

return ExecProcess
