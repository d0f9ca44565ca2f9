// The library in a browser. Plain JS, no build step; every text from the index is set with
// textContent (never as markup), so a Description holding <script> shows as text.
"use strict";

const state = { view: "search", rows: [], current: -1, selected: new Set(), offset: 0, limit: 50,
                more: false, catids: null, editing: null, playing: null };
const $ = (id) => document.getElementById(id);
const KEYS = [["j / k", "next / previous row"], ["space", "play or stop"], ["Enter", "edit the row"],
              ["a", "accept the machine's CatID"], ["m", "more like this"], ["x", "select the row"],
              ["u", "undo: give the file back as it was"], ["/", "search"],
              ["1 / 2 / 3", "search, review, status"], ["?", "this help"], ["Escape", "close"]];

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

function say(text, isError) {
  const m = $("message");
  m.textContent = text || "";
  m.className = isError ? "error" : "";
}

async function api(path, options) {
  const init = options || {};
  if (init.body !== undefined) {
    init.method = "POST";
    init.headers = { "Content-Type": "application/json" };
    init.body = JSON.stringify(init.body);
  }
  const response = await fetch(path, init);
  const doc = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) throw new Error(doc.error || response.statusText);
  return doc;
}

// -- views --------------------------------------------------------------------------------
function show(view) {
  state.view = view;
  for (const b of document.querySelectorAll("nav .tab")) b.classList.toggle("active", b.dataset.view === view);
  $("list-view").hidden = view === "status";
  $("facets").hidden = view !== "search";
  $("status-view").hidden = view !== "status";
  if (view === "review") loadReview();
  if (view === "status") loadStatus();
}

async function search(offset) {
  const q = $("q").value.trim();
  if (!q) { say("type a query"); return; }
  state.offset = offset || 0;
  const meaning = $("meaning").checked ? "&meaning=1" : "";
  const url = `/api/search?q=${encodeURIComponent(q)}&limit=${state.limit}&offset=${state.offset}` +
              `&sort=${encodeURIComponent($("sort").value)}${meaning}`;
  try {
    const doc = await api(url);
    if (state.view !== "search") show("search");
    state.more = doc.more;
    say(doc.notices.join(" "));
    render(doc.results);
    if (state.offset === 0) renderFacets(doc.facets, doc.facets_over);
    $("page-info").textContent = doc.results.length
      ? `${state.offset + 1}–${state.offset + doc.results.length}` : "no match";
  } catch (e) { say(e.message, true); }
}

async function loadReview() {
  try {
    const doc = await api("/api/review?limit=100");
    say(`${doc.waiting} files wait for a person; most uncertain first`);
    state.more = false;
    render(doc.results);
    $("page-info").textContent = "";
  } catch (e) { say(e.message, true); }
}

function renderFacets(facets, over) {
  const box = $("facets");
  box.replaceChildren(el("div", `categories (first ${over} matches)`, "sub"));
  for (const f of facets) {
    const b = el("button", `${f.CatID || "(none)"} ${f.count}`);
    b.title = [f.Category, f.SubCategory].filter(Boolean).join(" / ");
    b.addEventListener("click", () => {
      const q = $("q").value.replace(/\s*category:\S+/g, "").trim();
      $("q").value = `${q} category:${f.CatID}`.trim();
      search(0);
    });
    box.append(b);
  }
}

function source(row, field) {
  const s = row.sources[field];
  if (!s) return null;
  const text = s.confidence !== null && s.confidence !== undefined
    ? `${s.source} ${Math.round(s.confidence * 100)}%` : s.source;
  return el("span", text, `src ${s.source}`);
}

function cell(tr, parts) {
  const td = el("td");
  for (const p of parts) if (p) td.append(p);
  tr.append(td);
  return td;
}

function render(rows) {
  state.rows = rows;
  state.selected.clear();
  updateSelection();
  const body = $("results").tBodies[0];
  body.replaceChildren();
  rows.forEach((row, i) => {
    const tr = el("tr");
    tr.dataset.id = row.id;
    cell(tr, [el("span", i + 1 + state.offset, "sub")]);
    const name = el("div", row.name, "name");
    cell(tr, [name, el("div", row.folder, "sub"), row.review ? el("div", row.review.why, "why") : null]);
    const names = [row.Category, row.SubCategory].filter(Boolean).join(" / ");
    cell(tr, [el("span", row.CatID || "—", "catid"), source(row, "CatID"), el("div", names, "sub")]);
    cell(tr, [el("span", row.Description, "description"), source(row, "Description"),
              row.FXName ? el("div", row.FXName, "sub fxname") : null]);
    cell(tr, [el("span", (row.Keywords || []).join(", "), "keywords"), source(row, "Keywords")]);
    cell(tr, [el("span", row.Duration !== null ? `${row.Duration.toFixed(2)} s` : "")]);
    cell(tr, [el("span", `${row.format} ${row.Channels || "?"} ch ${row.SampleRate ? row.SampleRate / 1000 : "?"} kHz`)]);
    cell(tr, row.labels.slice(0, 3).map((l) => el("div", `${l.label} ${Math.round(l.probability * 100)}%`, "sub")));
    if (row.inside) {
      const wave = el("img"); wave.className = "thumb"; wave.alt = "waveform"; wave.loading = "lazy";
      wave.src = `/api/files/${row.id}/picture?kind=wave`;
      const spec = el("img"); spec.className = "thumb"; spec.alt = "spectrogram"; spec.loading = "lazy";
      spec.src = `/api/files/${row.id}/picture?kind=spectrum`;
      cell(tr, [wave, spec]);
    } else cell(tr, [el("span", "outside the library roots", "sub")]);
    tr.addEventListener("click", () => move(i));
    tr.addEventListener("dblclick", () => edit());
    body.append(tr);
  });
  move(rows.length ? 0 : -1);
}

function move(i) {
  const trs = $("results").tBodies[0].rows;
  if (state.current >= 0 && trs[state.current]) trs[state.current].classList.remove("current");
  state.current = Math.max(-1, Math.min(i, state.rows.length - 1));
  if (state.current >= 0) {
    trs[state.current].classList.add("current");
    trs[state.current].scrollIntoView({ block: "nearest" });
  }
}

function currentRow() { return state.current >= 0 ? state.rows[state.current] : null; }

function replaceRow(file) {
  const i = state.rows.findIndex((r) => r.id === file.id);
  if (i < 0) return;
  if (state.rows[i].review) file.review = state.rows[i].review;
  state.rows[i] = file;
  const keep = state.current;
  const selected = new Set(state.selected);
  render(state.rows);
  state.selected = selected;
  updateSelection();
  move(keep);
}

// -- listening ----------------------------------------------------------------------------
function play() {
  const row = currentRow();
  const player = $("player");
  const trs = $("results").tBodies[0].rows;
  for (const tr of trs) tr.classList.remove("playing");
  if (!row) return;
  if (!row.inside) { say(`${row.name} lies outside the library roots: not played`, true); return; }
  if (state.playing === row.id && !player.paused) { player.pause(); state.playing = null; return; }
  player.src = `/api/files/${row.id}/audio`;
  state.playing = row.id;
  trs[state.current].classList.add("playing");
  player.play().catch((e) => say(`cannot play: ${e.message}`, true));
}

// -- changing -----------------------------------------------------------------------------
async function accept() {
  const row = currentRow();
  if (!row) return;
  try {
    replaceRow(await api(`/api/files/${row.id}/accept`, { body: {} }));
    say(`accepted ${row.name}: ${row.CatID}`);
  } catch (e) { say(e.message, true); }
}

async function undo() {
  const row = currentRow();
  if (!row) return;
  try {
    const doc = await api(`/api/undo/${row.id}`, { body: {} });
    say(`${row.name}: given back as it was` + (doc.given_back ? "; the index forgot it" : ""));
    state.rows.splice(state.current, 1);
    const keep = state.current;
    render(state.rows);
    move(Math.min(keep, state.rows.length - 1));
  } catch (e) { say(e.message, true); }
}

async function moreLikeThis() {
  const row = currentRow();
  if (!row) return;
  try {
    say(`finding sounds like ${row.name}…`);
    const doc = await api(`/api/similar/${row.id}?limit=30`);
    if (state.view === "status") show("search");
    say(`sounds like ${row.name}`);
    render(doc.results);
  } catch (e) { say(e.message, true); }
}

function toggleSelect() {
  const row = currentRow();
  if (!row) return;
  if (state.selected.has(row.id)) state.selected.delete(row.id); else state.selected.add(row.id);
  updateSelection();
}

function updateSelection() {
  const trs = $("results").tBodies[0].rows;
  state.rows.forEach((r, i) => trs[i] && trs[i].classList.toggle("selected", state.selected.has(r.id)));
  $("selection-count").textContent = `${state.selected.size} selected`;
}

async function batch(body) {
  if (!state.selected.size) { say("select rows first (x)", true); return; }
  try {
    const doc = await api("/api/batch", { body: { ids: [...state.selected], ...body } });
    for (const r of doc.results) if (r.ok) replaceRow(r.file);
    const failed = doc.results.filter((r) => !r.ok).map((r) => `${r.id}: ${r.error}`);
    say(`${doc.ok} changed` + (failed.length ? `; refused: ${failed.join("; ")}` : ""), failed.length > 0);
  } catch (e) { say(e.message, true); }
}

async function loadCatids() {
  if (!state.catids) state.catids = (await api("/api/catids")).catids;
  return state.catids;
}

async function edit() {
  const row = currentRow();
  if (!row) return;
  state.editing = row;
  $("edit-title").textContent = row.name;
  $("edit-catid").value = row.CatID || "";
  $("edit-description").value = row.Description || "";
  $("edit-keywords").value = (row.Keywords || []).join(", ");
  $("edit-fxname").value = row.FXName || "";
  $("edit-error").textContent = "";
  $("editor").hidden = false;
  $("edit-catid").focus();
  await loadCatids().catch((e) => say(e.message, true));
  pick();
}

function pick() {
  const words = $("edit-catid").value.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const box = $("catid-picker");
  box.replaceChildren();
  if (!state.catids) return;
  const hits = state.catids.filter((c) => {
    const text = `${c.CatID} ${c.Category} ${c.SubCategory} ${c.Explanations} ${c.Synonyms.join(" ")}`.toLowerCase();
    return words.every((w) => text.includes(w));
  }).slice(0, 30);
  for (const c of hits) {
    const b = el("button", `${c.CatID} — ${c.Category} / ${c.SubCategory}`);
    b.type = "button";
    if (c.Explanations) b.title = c.Explanations;
    b.addEventListener("click", () => { $("edit-catid").value = c.CatID; box.replaceChildren(); });
    box.append(b);
  }
}

async function save(event) {
  event.preventDefault();
  const row = state.editing;
  const fields = {};
  const wanted = { CatID: $("edit-catid").value.trim(), Description: $("edit-description").value.trim(),
                   Keywords: $("edit-keywords").value.trim(), FXName: $("edit-fxname").value.trim() };
  const was = { CatID: row.CatID || "", Description: row.Description || "",
                Keywords: (row.Keywords || []).join(", "), FXName: row.FXName || "" };
  for (const k of Object.keys(wanted)) if (wanted[k] !== was[k]) fields[k] = wanted[k];
  if (!Object.keys(fields).length) { closeEditor(); return; }
  try {
    const file = await api(`/api/files/${row.id}/fields`, { body: fields });
    closeEditor();
    replaceRow(file);
    say(`${row.name}: ${Object.keys(fields).join(", ")} written`);
  } catch (e) { $("edit-error").textContent = e.message; }
}

function closeEditor() { $("editor").hidden = true; state.editing = null; }

// -- status -------------------------------------------------------------------------------
async function loadStatus() {
  const box = $("status-view");
  try {
    const s = await api("/api/status");
    box.replaceChildren();
    const cards = el("div", null, "cards");
    const card = (title) => { const c = el("div", null, "card"); c.append(el("h3", title)); cards.append(c); return c; };
    const queue = card(`Index: ${s.files} files`);
    for (const [k, v] of Object.entries(s.jobs)) queue.append(el("div", `${k}: ${v}`));
    const through = card("Files a minute, last hour");
    const bars = el("div", null, "bars");
    const top = Math.max(1, ...s.throughput);
    for (const n of s.throughput) { const b = el("div"); b.style.height = `${(100 * n) / top}%`; b.title = `${n}`; bars.append(b); }
    through.append(bars);
    const engine = card("Engine");
    engine.append(el("div", `${s.engine.name} (${s.engine.classifier})`), el("div", s.engine.model, "sub"));
    for (const w of s.workers) engine.append(el("div", `${w.kind} ${w.host}:${w.pid}, heard from ${w.heartbeat_age} s ago` +
      (w.engine ? `, engine ${w.engine.healthy ? "healthy" : "DOWN"}` : "")));
    const cats = card("Categories");
    const most = Math.max(1, ...Object.values(s.categories));
    for (const [c, n] of Object.entries(s.categories).slice(0, 20)) {
      const line = el("div"); const bar = el("span", null, "hbar"); bar.style.width = `${(120 * n) / most}px`;
      line.append(bar, el("span", `${c || "(none)"} ${n}`)); cats.append(line);
    }
    const aside = card(`Set aside (${s.set_aside.length})`);
    for (const j of s.set_aside) aside.append(el("div", j.path, "sub"), el("div", `${j.reason} (${j.tries} tries)`));
    const learned = card("Learning");
    if (s.learned) {
      learned.append(el("div", `model ${s.learned.version} of ${s.learned.created}: ${s.learned.files} files, ` +
        `${s.learned.categories} categories, accuracy ${(100 * s.learned.accuracy).toFixed(1)}%`));
      for (const [c, v] of Object.entries(s.learned.per_category || {}))
        learned.append(el("div", `${c}: ${v.files} files, ${(100 * v.accuracy).toFixed(0)}%`, "sub"));
      learned.append(el("div", `${s.person_categories_since_learn} categories given by a person since`));
    } else learned.append(el("div", "no learned model yet"));
    const run = el("button", "Learn now"); run.type = "button";
    run.addEventListener("click", async () => {
      run.disabled = true; say("learning…");
      try { await api("/api/learn", { body: {} }); say("learned"); loadStatus(); }
      catch (e) { say(e.message, true); run.disabled = false; }
    });
    learned.append(run);
    box.append(cards);
  } catch (e) { say(e.message, true); }
}

// -- keys ---------------------------------------------------------------------------------
function help(open) {
  const h = $("help");
  h.hidden = open === undefined ? !h.hidden : !open;
}

function onKey(event) {
  const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName);
  if (event.key === "Escape") { closeEditor(); help(false); document.activeElement.blur(); return; }
  if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
  if (!$("editor").hidden) return;
  const actions = {
    j: () => move(state.current + 1), k: () => move(state.current - 1), " ": play, Enter: edit,
    a: accept, m: moreLikeThis, x: toggleSelect, u: undo, "?": () => help(),
    "/": () => $("q").focus(), 1: () => show("search"), 2: () => show("review"), 3: () => show("status"),
  };
  const action = actions[event.key];
  if (action) { event.preventDefault(); action(); }
}

function init() {
  const table = $("help-keys");
  for (const [key, what] of KEYS) {
    const tr = el("tr"); const k = el("td"); k.append(el("kbd", key)); tr.append(k, el("td", what)); table.append(tr);
  }
  for (const b of document.querySelectorAll("nav .tab")) b.addEventListener("click", () => show(b.dataset.view));
  $("search-form").addEventListener("submit", (e) => { e.preventDefault(); $("q").blur(); search(0); });
  $("prev").addEventListener("click", () => { if (state.offset > 0) search(Math.max(0, state.offset - state.limit)); });
  $("next").addEventListener("click", () => { if (state.more) search(state.offset + state.limit); });
  $("help-button").addEventListener("click", () => help());
  $("edit-form").addEventListener("submit", save);
  $("edit-cancel").addEventListener("click", closeEditor);
  $("edit-catid").addEventListener("input", pick);
  $("batch-accept").addEventListener("click", () => batch({ accept: ["CatID"] }));
  $("batch-apply").addEventListener("click", () => {
    const catid = $("batch-catid").value.trim();
    if (catid) batch({ fields: { CatID: catid } }); else say("type a CatID for the selected rows", true);
  });
  $("player").addEventListener("ended", () => { state.playing = null; });
  document.addEventListener("keydown", onKey);
  const q = new URLSearchParams(location.search).get("q");
  if (q) { $("q").value = q; search(0); } else show("review");
}

document.addEventListener("DOMContentLoaded", init);
