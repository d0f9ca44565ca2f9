-- What the scripts ask of REAPER: audition, stop, insert, and the selected item's source file.
-- The reaper table is handed in, so the tests give a stand-in that records each call.
local Actions = {}
Actions.__index = Actions

local MEDIA_EXPLORER_STOP = 1009        -- Media Explorer action "Preview: Stop"
local INSERT_AT_BWF_TIME = 4096         -- InsertMedia: move to the source's preferred position (BWF time reference)

function Actions.new(reaper)
  return setmetatable({ r = reaper, preview = nil, source = nil }, Actions)
end

--- Play a file: through SWS's preview (CF_CreatePreview) when present, else in the Media Explorer.
--- Returns how it plays: "sws" or "media explorer".
function Actions:audition(path)
  local r = self.r
  self:stop()
  if r.CF_CreatePreview and r.PCM_Source_CreateFromFile then
    local source = r.PCM_Source_CreateFromFile(path)
    if not source then return nil, "REAPER cannot open " .. path end
    local preview = r.CF_CreatePreview(source)
    r.CF_Preview_Play(preview)
    self.preview, self.source = preview, source
    return "sws"
  end
  r.OpenMediaExplorer(path, true)
  self.in_explorer = true
  return "media explorer"
end

--- Stop what audition started. Returns false and a hint when REAPER gives no way to stop it from here.
function Actions:stop()
  local r = self.r
  if self.preview then
    r.CF_Preview_Stop(self.preview)      -- the preview owns nothing: its source is destroyed here
    if r.PCM_Source_Destroy then r.PCM_Source_Destroy(self.source) end
    self.preview, self.source = nil, nil
    return true
  end
  if self.in_explorer then
    self.in_explorer = false
    if r.JS_Window_OnCommand then
      local explorer = r.OpenMediaExplorer("", false)
      r.JS_Window_OnCommand(explorer, MEDIA_EXPLORER_STOP)
      return true
    end
    return false, "stop it in the Media Explorer (or install SWS or js_ReaScriptAPI)"
  end
  return true
end

--- Insert a file on the selected track at the edit cursor, or at its BWF time reference.
--- Returns the position (or "bwf") and nil, or nil and the reason.
function Actions:insert(path, at_bwf_time)
  local r = self.r
  local track = r.GetSelectedTrack(0, 0)
  if not track then return nil, "select a track to insert on" end
  r.Undo_BeginBlock()
  r.SetOnlyTrackSelected(track)           -- InsertMedia mode 0 adds to the one selected track
  local mode = at_bwf_time and INSERT_AT_BWF_TIME or 0
  local cursor = r.GetCursorPosition()
  r.InsertMedia(path, mode)
  if not at_bwf_time then r.SetEditCurPos(cursor, false, false) end   -- the cursor stays for the next sound
  r.Undo_EndBlock("SFX Sidecar: insert " .. (path:match("[^/\\]+$") or path), -1)
  r.UpdateArrange()
  return at_bwf_time and "bwf" or cursor
end

--- The source file of the selected item's active take (nil and a reason without one).
function Actions:selected_source()
  local r = self.r
  local item = r.GetSelectedMediaItem(0, 0)
  if not item then return nil, "select an item first" end
  local take = r.GetActiveTake(item)
  if not take then return nil, "the selected item has no take" end
  local source = r.GetMediaItemTake_Source(take)
  if r.GetMediaSourceParent then                 -- a section or reversed source wraps the file's
    source = r.GetMediaSourceParent(source) or source
  end
  local path = r.GetMediaSourceFileName(source, "")
  if not path or path == "" then return nil, "the selected item is not a file (MIDI or empty)" end
  return path
end

return Actions
