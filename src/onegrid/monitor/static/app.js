/* OneGrid dashboard: three pages over the server's /monitor/api JSON, redrawn every few
 * seconds. No data is built in: every figure comes from an endpoint, and the page never
 * asks for a detail endpoint (jobs, rules, failures) it may not read, so a reader without
 * a token sees the summaries and no errors. */
"use strict";

const API = "/monitor/api";
const TOKEN_KEY = "onegrid.token";
const PALETTE = ["#2563eb", "#16a34a", "#f59e0b", "#dc2626", "#7c3aed", "#0891b2", "#db2777",
                 "#65a30d", "#ea580c", "#4b5563", "#0d9488", "#a16207"];
const STATE_COLORS = {
  Done: "#16a34a", Running: "#2563eb", Matched: "#0891b2", Completing: "#0d9488", Waiting: "#f59e0b",
  Received: "#a3a3a3", Checking: "#737373", Staging: "#a16207", Stalled: "#ea580c", Failed: "#dc2626",
  Killed: "#7c2d12", Deleted: "#4b5563", Rescheduled: "#db2777",
  OK: "#16a34a", REPLICATING: "#2563eb", STUCK: "#dc2626", SUSPENDED: "#737373", INJECT: "#a3a3a3",
  DONE: "#16a34a", SUBMITTED: "#2563eb", QUEUED: "#f59e0b", STAGING: "#a16207", FAILED: "#dc2626",
  CANCELLED: "#4b5563",
};

const state = {
  config: null,
  page: "overview",
  charts: {},
  refreshes: 0,
  lastRefresh: null,
  errors: [],
  selectedJob: null,
  timer: null,
};
window.onegridDashboard = state;

// -- formatting ------------------------------------------------------------------------

function formatBytes(n) {
  if (n === null || n === undefined) return "–";
  const units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
  let i = 0;
  let v = Number(n);
  while (Math.abs(v) >= 1000 && i < units.length - 1) { v /= 1000; i += 1; }
  return `${v.toFixed(v >= 100 || i === 0 ? 0 : 1)} ${units[i]}`;
}

// CPU time in the unit that suits it: a demo's jobs run seconds, a production's years.
function formatCpu(seconds) {
  const s = Number(seconds);
  if (s < 120) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  const h = s / 3600;
  return h >= 100 ? `${h.toFixed(0)} h` : `${h.toFixed(1)} h`;
}

function formatTime(iso) {
  if (!iso) return "–";
  return iso.replace("T", " ").replace(/\.\d+/, "").replace("+00:00", " UTC");
}

function color(label, i) {
  return STATE_COLORS[label] || PALETTE[i % PALETTE.length];
}

// -- HTTP ------------------------------------------------------------------------------

function token() { return sessionStorage.getItem(TOKEN_KEY); }

function canReadSummaries() {
  return Boolean(state.config && (state.config.read_access !== "authenticated" || token()));
}

function canReadDetails() {
  return Boolean(state.config && (state.config.read_access === "public" || token()));
}

async function getJSON(path) {
  const headers = { Accept: "application/json" };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  const response = await fetch(path, { headers });
  if (response.status === 401 && t) {
    sessionStorage.removeItem(TOKEN_KEY);  // expired: back to the public view
    showSession();
  }
  if (!response.ok) {
    let message = response.statusText;
    try { message = (await response.json()).message || message; } catch (_e) { /* not JSON */ }
    throw new Error(`${path}: ${response.status} ${message}`);
  }
  return response.json();
}

// -- DOM helpers -------------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function fillTable(id, columns, rows, empty) {
  const table = document.getElementById(id);
  table.replaceChildren();
  table.append(el("thead", {}, el("tr", {}, ...columns.map((c) => el("th", {}, c.title)))));
  const body = el("tbody");
  if (!rows.length) {
    body.append(el("tr", {}, el("td", { colspan: String(columns.length), class: "empty" }, empty || "nothing yet")));
  }
  for (const row of rows) {
    const tr = el("tr");
    for (const c of columns) {
      const value = c.render ? c.render(row) : row[c.key];
      const cls = c.numeric ? "num" : c.long ? "long" : "";
      tr.append(el("td", cls ? { class: cls } : {}, value === null || value === undefined ? "–" : value));
    }
    body.append(tr);
  }
  table.append(body);
}

function progressBar(fraction, text) {
  const pct = Math.max(0, Math.min(100, fraction * 100));
  return el("div", { class: "progress", title: text },
    el("div", { class: "bar", style: `width:${pct.toFixed(1)}%` }), el("span", {}, text));
}

function badge(text) {
  return el("span", { class: `badge badge-${String(text).toLowerCase()}` }, text);
}

// -- charts ----------------------------------------------------------------------------

function drawChart(id, config) {
  const existing = state.charts[id];
  if (existing && existing.config.type === config.type) {
    existing.data.labels = config.data.labels;
    existing.data.datasets = config.data.datasets;
    existing.update("none");
    return existing;
  }
  if (existing) existing.destroy();
  const canvas = document.getElementById(id);
  config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options);
  state.charts[id] = new Chart(canvas, config);
  return state.charts[id];
}

function doughnut(id, items, valueOf, format) {
  drawChart(id, {
    type: "doughnut",
    data: {
      labels: items.map((x) => x.label),
      datasets: [{ data: items.map(valueOf), backgroundColor: items.map((x, i) => color(x.label, i)) }],
    },
    options: {
      plugins: {
        legend: { position: "right" },
        tooltip: { callbacks: { label: (ctx) => {
          const total = ctx.dataset.data.reduce((a, b) => a + b, 0);
          return `${ctx.label}: ${format(ctx.raw)} (${total ? Math.round((100 * ctx.raw) / total) : 0}%)`;
        } } },
      },
    },
  });
}

function bars(id, labels, datasets, { stacked = false, format = (v) => v, horizontal = false } = {}) {
  drawChart(id, {
    type: "bar",
    data: { labels, datasets },
    options: {
      indexAxis: horizontal ? "y" : "x",
      scales: {
        x: { stacked, ticks: horizontal ? { callback: (v) => format(v) } : {} },
        y: { stacked, beginAtZero: true, ticks: horizontal ? {} : { callback: (v) => format(v) } },
      },
      plugins: {
        legend: { display: datasets.length > 1 },
        tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${format(ctx.raw)}` } },
      },
    },
  });
}

function jobStateChart(id, counts) {
  const labels = Object.keys(counts);
  bars(id, labels, [{ label: "jobs", data: labels.map((s) => counts[s]),
                      backgroundColor: labels.map((s, i) => color(s, i)) }]);
}

// -- pages -----------------------------------------------------------------------------

// Bars of a day or more are labelled by date, shorter ones by date and time.
function bucketLabels(series) {
  return series.buckets.map((b) => (series.bucket_seconds >= 86400 ? b.slice(0, 10)
    : b.slice(5, 16).replace("T", " ")));
}

function volumeQuery() {
  const span = document.getElementById("volume-span").value;
  if (!span) return "";
  const [hours, minutes] = span.split(":");
  return `?hours=${hours}&bucket_minutes=${minutes}`;
}

async function refreshOverview() {
  const [overview, storage, volume, cpu, cpuSeries] = await Promise.all([
    getJSON(`${API}/overview`), getJSON(`${API}/storage`), getJSON(`${API}/transfers/volume${volumeQuery()}`),
    getJSON(`${API}/cpu`), getJSON(`${API}/cpu/series${volumeQuery()}`),
  ]);
  const running = overview.sites.reduce((n, s) => n + s.running_jobs, 0);
  const cards = document.getElementById("overview-cards");
  cards.replaceChildren(
    el("div", { class: "card" }, el("b", {}, overview.files.toLocaleString()), "files"),
    el("div", { class: "card" }, el("b", {}, formatBytes(overview.bytes)), "stored"),
    el("div", { class: "card" }, el("b", {}, String(overview.sites.length)), "sites"),
    el("div", { class: "card" }, el("b", {}, String(running)), "jobs running"),
  );
  fillTable("sites-table", [
    { title: "Site", key: "site" },
    { title: "Status", render: (s) => badge(s.status) },
    { title: "Reason", key: "reason" },
    { title: "Country", key: "country" },
    { title: "Type", key: "site_type" },
    { title: "Storage used / total", render: (s) => progressBar(s.total_bytes ? s.used_bytes / s.total_bytes : 0,
      `${formatBytes(s.used_bytes)} / ${s.total_bytes ? formatBytes(s.total_bytes) : "–"}`) },
    { title: "Queues", key: "queues", numeric: true },
    { title: "Cores", key: "cores", numeric: true },
    { title: "Running jobs", key: "running_jobs", numeric: true },
  ], overview.sites, "no sites yet");
  fillTable("rses-table", [
    { title: "RSE", key: "rse" }, { title: "Type", key: "rse_type" }, { title: "Country", key: "country" },
    { title: "Site type", key: "site_type" }, { title: "Files", key: "files", numeric: true },
    { title: "Used / total", render: (r) => progressBar(r.total_bytes ? r.used_bytes / r.total_bytes : 0,
      `${formatBytes(r.used_bytes)} / ${formatBytes(r.total_bytes)}`) },
  ], storage.rses, "no storage elements yet");

  doughnut("chart-country", storage.per_country, (x) => x.bytes, formatBytes);
  doughnut("chart-sitetype", storage.per_site_type, (x) => x.bytes, formatBytes);
  bars("chart-transfer-volume", bucketLabels(volume), volume.series.map((s, i) => ({
    label: s.activity, data: s.bytes, backgroundColor: color(s.activity, i),
  })), { stacked: true, format: formatBytes });
  bars("chart-cpu-series", bucketLabels(cpuSeries), cpuSeries.series.map((s, i) => ({
    label: s.activity, data: s.cpu_seconds, backgroundColor: color(s.activity, i),
  })), { stacked: true, format: formatCpu });
  doughnut("chart-cpu-activity", cpu.per_activity, (x) => x.cpu_seconds, formatCpu);
  bars("chart-cpu-site", cpu.per_site.map((x) => x.label), [{
    label: "CPU", data: cpu.per_site.map((x) => x.cpu_seconds), backgroundColor: PALETTE[0],
  }], { format: formatCpu, horizontal: true });
  jobStateChart("chart-jobs-state", overview.jobs_by_state);
}

async function refreshRules() {
  const wantDetails = canReadDetails();
  const [rules, states, links, stuck, failures] = await Promise.all([
    getJSON(`${API}/rules`), getJSON(`${API}/transfers/states`), getJSON(`${API}/transfers/links`),
    wantDetails ? getJSON(`${API}/rules/stuck`) : Promise.resolve(null),
    wantDetails ? getJSON(`${API}/transfers/failures`) : Promise.resolve(null),
  ]);
  const ruleStates = Object.keys(rules.rules_by_state);
  bars("chart-rules-state", ruleStates, [{ label: "rules", data: ruleStates.map((s) => rules.rules_by_state[s]),
                                            backgroundColor: ruleStates.map((s, i) => color(s, i)) }]);
  const activities = [...new Set(states.map((r) => r.activity))].sort();
  const requestStates = [...new Set(states.map((r) => r.state))].sort();
  bars("chart-transfer-states", activities, requestStates.map((st, i) => ({
    label: st, backgroundColor: color(st, i),
    data: activities.map((a) => (states.find((r) => r.activity === a && r.state === st) || { requests: 0 }).requests),
  })), { stacked: true });
  fillTable("links-table", [
    { title: "Source", key: "source" }, { title: "Destination", key: "destination" },
    { title: "Active / window", render: (l) => progressBar(l.window ? l.active / l.window : 0,
      `${l.active} / ${l.window ?? "–"}`) },
    { title: "Queued to destination", key: "queued_to_destination", numeric: true },
    { title: "Throughput", render: (l) => (l.throughput ? `${formatBytes(l.throughput)}/s` : "–") },
    { title: "Success", render: (l) => (l.success_rate === null ? "–" : `${(l.success_rate * 100).toFixed(0)} %`) },
    { title: "Optimizer", key: "decision" },
  ], links, "no links yet");
  if (stuck) {
    fillTable("stuck-table", [
      { title: "Rule", key: "rule_id", long: true }, { title: "DID", key: "did", long: true }, { title: "Account", key: "account" },
      { title: "RSE expression", key: "rse_expression" }, { title: "State", render: (r) => badge(r.state) },
      { title: "Locks ok/repl./stuck", render: (r) => `${r.locks_ok}/${r.locks_replicating}/${r.locks_stuck}` },
      { title: "Reason", key: "reason", long: true }, { title: "Since", render: (r) => formatTime(r.since) },
    ], stuck, "no stuck rules");
  }
  if (failures) {
    fillTable("failures-table", [
      { title: "Finished", render: (f) => formatTime(f.finished_at) }, { title: "File", render: (f) => `${f.scope}:${f.name}`, long: true },
      { title: "Source", key: "source" }, { title: "Destination", key: "destination" },
      { title: "Activity", key: "activity" }, { title: "Attempt", key: "attempt", numeric: true },
      { title: "Error", key: "error", long: true },
    ], failures, "no failures");
  }
}

function jobSearchQuery() {
  const form = document.getElementById("job-search");
  const params = new URLSearchParams();
  for (const name of ["owner", "group", "site", "status"]) {
    const value = form.elements[name].value.trim();
    if (value) params.set(name, value);
  }
  return params.toString();
}

async function refreshJobs() {
  const wantDetails = canReadDetails();
  const [states, productions, found] = await Promise.all([
    getJSON(`${API}/jobs/states`), getJSON(`${API}/productions`),
    wantDetails ? getJSON(`${API}/jobs?${jobSearchQuery()}`) : Promise.resolve(null),
  ]);
  jobStateChart("chart-jobs-state-2", states.jobs_by_state);
  const sites = [...new Set(states.by_site.map((r) => r.site))].sort();
  const jobStates = [...new Set(states.by_site.map((r) => r.status))];
  bars("chart-jobs-site", sites, jobStates.map((st, i) => ({
    label: st, backgroundColor: color(st, i),
    data: sites.map((s) => (states.by_site.find((r) => r.site === s && r.status === st) || { jobs: 0 }).jobs),
  })), { stacked: true });
  fillTable("productions-table", [
    { title: "Id", key: "production_id", numeric: true }, { title: "Name", key: "name" },
    { title: "Group", key: "group" }, { title: "Status", render: (p) => badge(p.status) },
    { title: "Release", key: "release" },
    { title: "Progress", render: (p) => progressBar(p.progress, `${p.jobs_done} / ${p.jobs_total} jobs done`) },
    { title: "Jobs", render: (p) => Object.entries(p.jobs).map(([s, n]) => `${s} ${n}`).join(", ") },
    { title: "Events", key: "events_total", numeric: true },
  ], productions, "no productions yet");
  if (found) {
    fillTable("jobs-table", [
      { title: "Job", render: (j) => el("a", { href: `#jobs/${j.job_id}`, onclick: (e) => {
        e.preventDefault(); showJob(j.job_id);
      } }, String(j.job_id)) },
      { title: "Name", key: "name" }, { title: "Owner", key: "owner" }, { title: "Group", key: "owner_group" },
      { title: "Type", key: "job_type" }, { title: "Status", render: (j) => badge(j.status) },
      { title: "Minor status", key: "minor_status" }, { title: "Site", key: "site" },
      { title: "CPU", render: (j) => formatCpu(j.cpu_seconds) },
      { title: "Updated", render: (j) => formatTime(j.updated_at) },
    ], found.jobs, "no job matches");
  }
  if (wantDetails && state.selectedJob !== null) await loadHistory(state.selectedJob);
}

async function loadHistory(jobId) {
  const data = await getJSON(`${API}/jobs/${jobId}/history`);
  document.getElementById("job-history").hidden = false;
  document.getElementById("job-history-title").textContent =
    `Logging history of job ${jobId} (${data.job.owner}, ${data.job.status})`;
  fillTable("job-history-table", [
    { title: "Time", render: (r) => formatTime(r.at) }, { title: "Status", render: (r) => badge(r.status) },
    { title: "Minor status", key: "minor_status" }, { title: "Application status", key: "application_status" },
    { title: "Source", key: "source" },
  ], data.history);
}

async function showJob(jobId) {
  state.selectedJob = jobId;
  try { await loadHistory(jobId); } catch (e) { reportError(e); }
}

const PAGES = { overview: refreshOverview, rules: refreshRules, jobs: refreshJobs };

// -- refresh loop, navigation, session -------------------------------------------------

function reportError(error) {
  state.errors.push(String(error));
  document.getElementById("status").textContent = `⚠ ${error.message || error}`;
  document.getElementById("status").className = "error";
}

async function refresh() {
  if (!canReadSummaries()) {
    document.getElementById("status").textContent = "sign in to see this grid";
    return;
  }
  try {
    await PAGES[state.page]();
    state.refreshes += 1;
    state.lastRefresh = new Date();
    const status = document.getElementById("status");
    status.className = "";
    status.textContent = `updated ${state.lastRefresh.toLocaleTimeString()}`;
    document.body.dataset.loaded = state.page;
  } catch (error) {
    reportError(error);
  }
}

function schedule() {
  clearTimeout(state.timer);
  const seconds = state.config ? state.config.refresh_seconds : 10;
  state.timer = setTimeout(async () => { await refresh(); schedule(); }, seconds * 1000);
}

function showPage() {
  const wanted = (location.hash || "#overview").slice(1).split("/")[0];
  state.page = PAGES[wanted] ? wanted : "overview";
  for (const section of document.querySelectorAll(".page")) section.hidden = section.id !== `page-${state.page}`;
  for (const link of document.querySelectorAll("nav a")) link.classList.toggle("active", link.dataset.page === state.page);
  delete document.body.dataset.loaded;
  refresh().then(schedule);
}

function showSession() {
  const details = canReadDetails();
  for (const node of document.querySelectorAll(".detail")) node.hidden = !details;
  document.getElementById("job-history").hidden = !details || state.selectedJob === null;
  for (const node of document.querySelectorAll(".detail-hint")) node.hidden = details;
  const signedIn = Boolean(token());
  const publicGrid = state.config && state.config.read_access === "public";
  document.getElementById("login").hidden = signedIn || publicGrid;
  document.getElementById("logout").hidden = !signedIn;
  document.getElementById("whoami").textContent = signedIn && state.config && state.config.account
    ? `signed in as ${state.config.account}` : "";
}

async function signIn(event) {
  event.preventDefault();
  const account = document.getElementById("login-account").value.trim();
  const password = document.getElementById("login-password").value;
  const response = await fetch("/auth/userpass", { headers: {
    "X-Rucio-Account": account, "X-Rucio-Username": account, "X-Rucio-Password": password,
  } });
  await response.text();  // read to the end, so the browser does not count the request as aborted
  const t = response.headers.get("X-Rucio-Auth-Token");
  if (!response.ok || !t) {
    reportError(new Error(`sign-in refused for ${account}`));
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, t);
  document.getElementById("login-password").value = "";
  await loadConfig();
  showPage();
}

async function loadConfig() {
  const hadToken = Boolean(token());
  try {
    state.config = await getJSON(`${API}/config`);
  } catch (error) {
    if (!hadToken || token()) throw error;
    state.config = await getJSON(`${API}/config`);  // the token had expired: go on without it
  }
  document.getElementById("version").textContent = state.config.version;
  showSession();
}

async function start() {
  document.getElementById("login").addEventListener("submit", signIn);
  document.getElementById("logout").addEventListener("click", async () => {
    sessionStorage.removeItem(TOKEN_KEY);
    state.selectedJob = null;
    document.getElementById("job-history").hidden = true;
    await loadConfig();
    showPage();
  });
  document.getElementById("job-search").addEventListener("submit", (event) => {
    event.preventDefault();
    refresh();
  });
  window.addEventListener("hashchange", showPage);
  const span = document.getElementById("volume-span");
  span.value = localStorage.getItem("onegrid.volumeSpan") || "";
  span.addEventListener("change", () => {
    localStorage.setItem("onegrid.volumeSpan", span.value);
    refresh();
  });
  try {
    await loadConfig();
  } catch (error) {
    reportError(error);  // read_access "authenticated" without a token: the login form stays
    showSession();
    return;
  }
  showPage();
}

start();
