-- The search window's state and keys, apart from drawing: what is typed, which row is selected,
-- which rows show, and which action a key asks for. Pure Lua, so it is tested outside REAPER.
local View = {}
View.__index = View

-- gfx.getchar() codes of the keys used
local KEY = {
  enter = 13, escape = 27, backspace = 8, tab = 9, delete = 6579564,
  up = 30064, down = 1685026670, left = 1818584692, right = 1919379572,
  pageup = 1885828464, pagedown = 1885824110, home = 1752132965, ["end"] = 6647396,
  ctrl_l = 12,
}
View.KEY = KEY
local SHIFT = 8                          -- gfx.mouse_cap bit

function View.new(rows)
  return setmetatable({ query = "", searched = nil, rows = rows or 15, items = {}, selected = 0, top = 1,
                        mode = "results" }, View)
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

local function typed(c)
  if c >= 32 and c <= 126 then return string.char(c) end
  if c >= 0x75000000 and c < 0x75110000 then return utf8.char(c - 0x75000000) end   -- 'u' << 24 | codepoint
  return nil
end

--- One key from gfx.getchar(), with gfx.mouse_cap; returns the action it asks for, or nil.
--- Actions: search, insert, insert_bwf, audition, stop, similar, tags, edit, back, close.
function View:key(c, cap)
  cap = cap or 0
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
  elseif c == KEY.escape then
    if self.mode == "fields" then return "back" end
    if self.query ~= "" then self.query = "" return nil end
    return "close"
  elseif c == KEY.backspace then
    self.query = self.query:sub(1, (utf8.offset(self.query, -1) or 1) - 1)
  else
    local ch = typed(c)
    if ch then self.query = self.query .. ch end
  end
  return nil
end

--- One result as the window shows it: CatID, Description (or the file name), duration.
function View.result_line(hit)
  local name = (hit.Description ~= nil and hit.Description ~= "") and hit.Description
    or (tostring(hit.path):match("[^/\\]+$") or hit.path)
  return ("%-14s %s"):format(hit.CatID or "", name), ("%.1f s"):format(tonumber(hit.Duration) or 0)
end

return View
