-- What the scripts ask of REAPER: audition, stop, insert, and the selected item's source file.
-- The reaper table is handed in, so the tests give a stand-in that records each call.
local Actions = {}
Actions.__index = Actions

local MEDIA_EXPLORER_STOP = 1009        -- Media Explorer action "Preview: Stop" (section 32063)
local SHOW_MEDIA_EXPLORER = 50124       -- main action "View: Show media explorer" (toggle: 1 while open)
local INSERT_AT_BWF_TIME = 4096         -- InsertMedia: move to the source's preferred position (BWF time reference)

--- opts (all optional): preview_track = a track number (1 = first) the SWS preview plays through,
--- preview_volume_db = its volume in dB; clock = seconds (reaper.time_precise).
function Actions.new(reaper, opts)
  opts = opts or {}
  return setmetatable({ r = reaper, preview = nil, source = nil, preview_track = opts.preview_track,
                        preview_volume_db = opts.preview_volume_db,
                        clock = opts.clock or reaper.time_precise or os.clock }, Actions)
end

--- Play a file: through SWS's preview (CF_CreatePreview) when present, else in the Media Explorer.
--- duration (seconds, optional) tells whether the Media Explorer is still playing it.
--- Returns how it plays: "sws" or "media explorer"; or nil and the reason.
function Actions:audition(path, duration)
  local r = self.r
  if r.CF_CreatePreview and r.PCM_Source_CreateFromFile then
    self:stop()
    local source = r.PCM_Source_CreateFromFile(path)
    if not source then return nil, "REAPER cannot open " .. path end
    local preview = r.CF_CreatePreview(source)
    if self.preview_track and r.CF_Preview_SetOutputTrack then
      local track = r.GetTrack(0, self.preview_track - 1)
      if track then r.CF_Preview_SetOutputTrack(preview, 0, track) end
    end
    if self.preview_volume_db and r.CF_Preview_SetValue then
      r.CF_Preview_SetValue(preview, "D_VOLUME", 10 ^ (self.preview_volume_db / 20))
    end
    r.CF_Preview_Play(preview)
    self.preview, self.source = preview, source
    return "sws"
  end
  -- The Media Explorer plays one file at a time: a new file replaces the last without a Stop. The same
  -- file again toggles its playback, so it is stopped first when it is still playing.
  local now = self.clock()
  if self.explorer_path == path then
    local stopped = self:_send_explorer_stop()
    if not stopped and duration and self.explorer_started and now - self.explorer_started < duration then
      r.OpenMediaExplorer(path, true)          -- still playing: this toggle stops it, the next plays it
    end
  end
  self.explorer = r.OpenMediaExplorer(path, true)
  self.explorer_path, self.explorer_started = path, now
  return "media explorer"
end

--- The Media Explorer's Stop, sent (and carried out) before this returns; false without js_ReaScriptAPI
--- or when the Media Explorer is closed (it is never reopened for this).
function Actions:_send_explorer_stop()
  local r = self.r
  if not r.JS_WindowMessage_Send then return false end
  if r.GetToggleCommandState(SHOW_MEDIA_EXPLORER) ~= 1 then return false end
  local hwnd = self.explorer
  if not hwnd or (r.JS_Window_IsWindow and not r.JS_Window_IsWindow(hwnd)) then
    hwnd = r.OpenMediaExplorer("", false)      -- it is open: this only hands back its window
  end
  if not hwnd then return false end
  r.JS_WindowMessage_Send(hwnd, "WM_COMMAND", MEDIA_EXPLORER_STOP, 0, 0, 0)
  return true
end

--- Stop what audition started. Returns false and a hint when REAPER gives no way to stop it from here.
function Actions:stop()
  local r = self.r
  if self.preview then
    r.CF_Preview_Stop(self.preview)      -- stops and destroys the preview, which owns nothing: the source goes here
    if r.PCM_Source_Destroy then r.PCM_Source_Destroy(self.source) end
    self.preview, self.source = nil, nil
    return true
  end
  if self.explorer_path then
    if r.GetToggleCommandState(SHOW_MEDIA_EXPLORER) ~= 1 then   -- closed by the user: nothing plays
      self.explorer_path = nil
      return true
    end
    if self:_send_explorer_stop() then
      self.explorer_path = nil
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
  -- a section wraps the file's source, and a reversed section wraps a section: go up to the root
  while r.GetMediaSourceParent do
    local parent = r.GetMediaSourceParent(source)
    if not parent then break end
    source = parent
  end
  local path = r.GetMediaSourceFileName(source, "")   -- older REAPER versions take a buffer argument
  if not path or path == "" then return nil, "the selected item is not a file (MIDI or empty)" end
  return path
end

return Actions
