-- The search window's state and keys, apart from drawing: what is typed, which row is selected,
-- which rows show, and which action a key asks for. Pure Lua, so it is tested outside REAPER.
local View = {}
View.__index = View

-- gfx.getchar() codes of the keys used
local KEY = {
  enter = 13, escape = 27, backspace = 8, tab = 9, delete = 6579564,
  up = 30064, down = 1685026670, left = 1818584692, right = 1919379572,
  pageup = 1885828464, pagedown = 1885824110, home = 1752132965, ["end"] = 6647396,
  ctrl_l = 12, ctrl_v = 22,              -- Ctrl/Cmd+A..Z arrive as 1..26
}
View.KEY = KEY
local SHIFT = 8                          -- gfx.mouse_cap bit
local DOUBLE_CLICK = 0.4                 -- seconds between two clicks on one row
View.SEARCH_DELAY = 0.35                 -- seconds of no typing before a search starts by itself

function View.new(rows)
  return setmetatable({ query = "", searched = nil, rows = rows or 15, items = {}, selected = 0, top = 1,
                        mode = "results", edited_at = nil }, View)
end

--- Show a new list (results, or a file's fields); the first row is selected.
function View:set_items(items, mode)
  self.items, self.mode = items or {}, mode or "results"
  self.selected = #self.items > 0 and 1 or 0
  self.top = 1
end

function View:current()
  return self.items[self.selected]
end

function View:move(by)
  if #self.items == 0 then return end
  self.selected = math.max(1, math.min(#self.items, self.selected + by))
  if self.selected < self.top then self.top = self.selected end
  if self.selected >= self.top + self.rows then self.top = self.selected - self.rows + 1 end
end

--- The rows on screen: first and last index.
function View:visible()
  return self.top, math.min(#self.items, self.top + self.rows - 1)
end

-- gfx.getchar() without its unichar argument gives a character up to 255 as itself (é is 233: Latin-1
-- is Unicode's first 256 code points) and a higher one as 'u' << 24 | code point.
local function typed(c)
  if (c >= 32 and c <= 126) or (c >= 160 and c <= 255) then return utf8.char(c) end
  if c >= 0x75000000 and c < 0x75110000 then return utf8.char(c - 0x75000000) end
  return nil
end
View.typed = typed

--- Scroll the rows by n (the wheel), the selection left where it is.
function View:scroll(n)
  local last_top = math.max(1, #self.items - self.rows + 1)
  self.top = math.max(1, math.min(last_top, self.top + n))
end

--- The prefix that turns a query into a search by meaning ("~heavy downpour").
View.MEANING = "~"

--- The text of a search by meaning (the query after a leading "~", spaces trimmed), or nil for a plain
--- search.
function View.meaning_of(query)
  if query:sub(1, #View.MEANING) ~= View.MEANING then return nil end
  return (query:sub(#View.MEANING + 1):gsub("^%s+", ""):gsub("%s+$", ""))
end

--- A click on row i (an index into items) at time now: selects it; a second click on the same row soon
--- after asks for the row's action (insert a result, edit a field).
function View:click(i, now)
  if not self.items[i] then return nil end
  local double = self.selected == i and self.clicked_at and now - self.clicked_at <= DOUBLE_CLICK
  self.selected = i
  self.clicked_at = not double and now or nil
  if double then return self.mode == "fields" and "edit" or "insert" end
  return nil
end

--- Text pasted into the search (its first line).
function View:paste(text, now)
  local line = tostring(text or ""):match("^[^\r\n]*"):gsub("%c", " ")
  if line == "" or self.mode ~= "results" then return end
  self.query, self.edited_at = self.query .. line, now
end

--- Whether a search should start by itself: the query changed and typing paused.
function View:search_due(now)
  return self.mode == "results" and self.edited_at ~= nil and self.query ~= "" and self.query ~= self.searched
    and now - self.edited_at >= View.SEARCH_DELAY
end

--- text cut to fit width (measure(s) gives a string's width), ending in "..." when it was cut; never
--- inside a UTF-8 character.
function View.fit(text, width, measure)
  text = tostring(text or "")
  if measure(text) <= width then return text end
  local ell = "..."
  local cut = text
  while cut ~= "" do
    cut = cut:sub(1, (utf8.offset(cut, -1) or 1) - 1)
    if measure(cut .. ell) <= width then return cut .. ell end
  end
  return ""
end

--- One key from gfx.getchar(), with gfx.mouse_cap and the time; returns the action it asks for, or nil.
--- Actions: search, insert, insert_bwf, audition, stop, similar, tags, edit, back, close, paste.
function View:key(c, cap, now)
  cap, now = cap or 0, now or 0
  if c == KEY.up then self:move(-1)
  elseif c == KEY.down then self:move(1)
  elseif c == KEY.pageup then self:move(-self.rows)
  elseif c == KEY.pagedown then self:move(self.rows)
  elseif c == KEY.home then self:move(-#self.items)
  elseif c == KEY["end"] then self:move(#self.items)
  elseif c == KEY.enter then
    if self.mode == "fields" then return "edit" end
    if self.query ~= self.searched and self.query ~= "" then return "search" end
    if self:current() then return (cap & SHIFT ~= 0) and "insert_bwf" or "insert" end
  elseif c == KEY.right then return self:current() and self.mode == "results" and "audition" or nil
  elseif c == KEY.left then return "stop"
  elseif c == KEY.tab then return self:current() and self.mode == "results" and "tags" or nil
  elseif c == KEY.ctrl_l then return self:current() and self.mode == "results" and "similar" or nil
  elseif c == KEY.ctrl_v then return self.mode == "results" and "paste" or nil
  elseif c == KEY.escape then
    if self.mode == "fields" then return "back" end
    if self.query ~= "" then self.query, self.edited_at = "", nil return nil end
    return "close"
  elseif c == KEY.backspace then
    if self.mode == "results" and self.query ~= "" then
      self.query, self.edited_at = self.query:sub(1, (utf8.offset(self.query, -1) or 1) - 1), now
    end
  else
    local ch = self.mode == "results" and typed(c)      -- the tags view takes no typing
    if ch then self.query, self.edited_at = self.query .. ch, now end
  end
  return nil
end

--- One result as the window shows it: its name (the Description, or the file name) and its duration.
function View.result_line(hit)
  local name = (hit.Description ~= nil and hit.Description ~= "") and hit.Description
    or (tostring(hit.path):match("[^/\\]+$") or hit.path)
  return name, ("%.1f s"):format(tonumber(hit.Duration) or 0)
end

return View
