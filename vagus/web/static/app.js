// Vagus live page: device cards over server-sent events, a last-hour chart, the pacer and
// feedback. No library; every value from the server goes in as text, never as HTML.
"use strict";

(() => {
  const HISTORY_S = 3600;
  const SVG = "http://www.w3.org/2000/svg";
  const token = new URLSearchParams(location.search).get("token");
  const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
  const cards = new Map(); // device -> card record
  const QUALITY = {
    ok: "good", too_few_beats: "too few beats", low_coverage: "low coverage",
    artifacts: "artifacts", gap: "gap",
  };
  const LEVEL = { calm: "calm", elevated: "elevated", high: "high" };
  const PHASE = { inhale: "Breathe in", hold: "Hold", exhale: "Breathe out" };
  const VERDICT = { helpful: "Helpful", not_now: "Not now", false_alarm: "False alarm" };

  function apiUrl(path, params = {}) {
    const url = new URL(path, location.href);
    if (token) url.searchParams.set("token", token);
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    return url;
  }

  function fmt(value, digits) {
    return value === null || value === undefined ? "–" : value.toFixed(digits);
  }

  function field(card, name) {
    return card.el.querySelector(`[data-field="${name}"]`);
  }

  // ---- cards

  function cardFor(device) {
    let card = cards.get(device);
    if (card) return card;
    const el = document.getElementById("card-template").content.firstElementChild.cloneNode(true);
    el.dataset.device = device;
    el.setAttribute("aria-label", `Device ${device}`);
    card = {
      device, el, t: [], hr: [], stress: [], triggers: [], suggestionId: null,
      pacer: null, dirty: false,
    };
    field(card, "device").textContent = device;
    for (const button of el.querySelectorAll("button[data-verdict]")) {
      button.addEventListener("click", () => sendFeedback(card, button));
    }
    cards.set(device, card);
    const list = document.getElementById("devices");
    const after = [...cards.keys()].sort().indexOf(device);
    list.insertBefore(el, list.children[after] || null);
    document.getElementById("empty").hidden = true;
    loadHistory(card);
    return card;
  }

  function showDevice(data) {
    const card = cardFor(data.device);
    const w = data.window;
    card.el.dataset.connected = data.connected === null ? "" : String(data.connected);
    field(card, "link").textContent = data.link;
    field(card, "battery").textContent = data.battery_pct === null ? "–" : `${data.battery_pct} %`;
    field(card, "hr").textContent = w ? fmt(w.hr_bpm, 0) : "–";
    field(card, "rmssd").textContent = w ? fmt(w.rmssd_ms, 1) : "–";
    field(card, "stress").textContent = w ? fmt(w.stress, 0) : "–";
    field(card, "quality").textContent = w ? QUALITY[w.quality] || w.quality : "–";
    const level = field(card, "level");
    level.dataset.level = data.level || "";
    level.textContent = data.level ? LEVEL[data.level] : "";
    showSuggestion(card, data.suggestion, data.answer, w);
    const o = data.outcome;
    field(card, "outcome").textContent = o
      ? `Last suggestion (${o.exercise_id}): ${o.verdict.replace("_", " ")}`
        + (o.delta_ln_rmssd === null ? "" : `, Δ ln RMSSD ${o.delta_ln_rmssd.toFixed(2)}`)
      : "";
  }

  // ---- suggestion and pacer

  function showSuggestion(card, trigger, answer, window_) {
    const box = card.el.querySelector(".suggestion");
    if (!trigger) {
      box.hidden = true;
      stopPacer(card);
      card.suggestionId = null;
      return;
    }
    if (!card.triggers.some((t) => t.id === trigger.id)) card.triggers.push(trigger);
    if (card.suggestionId !== trigger.id) {
      card.suggestionId = trigger.id;
      const ex = trigger.exercise;
      field(card, "exercise").textContent = ex.name;
      field(card, "pattern").textContent =
        ex.phases.map((p) => `${p.kind} ${p.duration_s} s`).join(" · ")
        + ` — ${Math.round(ex.duration_s / 60)} min, ${ex.breaths_per_min.toFixed(1)} breaths/min`;
      for (const button of box.querySelectorAll("button")) {
        button.disabled = false;
        button.setAttribute("aria-pressed", "false");
      }
      field(card, "answer").textContent = "";
      box.hidden = false;
      startPacer(card, ex.phases);
    }
    const coherence = window_ && window_.coherence;
    field(card, "coherence").textContent =
      coherence === null || coherence === undefined ? "" : `Coherence ${coherence.toFixed(2)}`;
    if (answer) markAnswered(card, answer);
  }

  function startPacer(card, phases) {
    stopPacer(card);
    const cycle = phases.reduce((sum, p) => sum + p.duration_s, 0);
    const pacer = card.el.querySelector(".pacer");
    const ball = card.el.querySelector(".pacer-ball");
    const label = field(card, "phase");
    const state = { start: performance.now(), frame: 0 };
    const low = 0.45;
    const high = 1.0;
    const step = (now) => {
      let t = ((now - state.start) / 1000) % cycle;
      let scale = low;
      let kind = phases[0].kind;
      let left = 0;
      let level = low; // the lungs' fill at the start of each phase
      for (const phase of phases) {
        const d = phase.duration_s;
        const end = phase.kind === "inhale" ? high : phase.kind === "exhale" ? low : level;
        if (t < d) {
          const p = 0.5 - Math.cos(Math.PI * (t / d)) / 2; // eased
          scale = level + (end - level) * p;
          kind = phase.kind;
          left = Math.ceil(d - t);
          break;
        }
        t -= d;
        level = end;
      }
      pacer.dataset.phase = kind;
      const text = `${PHASE[kind] || kind} · ${left}`;
      if (label.textContent !== text) label.textContent = text;
      if (!reduceMotion.matches) ball.style.transform = `scale(${scale.toFixed(3)})`;
      else ball.style.transform = "";
      state.frame = requestAnimationFrame(step);
    };
    state.frame = requestAnimationFrame(step);
    card.pacer = state;
  }

  function stopPacer(card) {
    if (card.pacer) cancelAnimationFrame(card.pacer.frame);
    card.pacer = null;
  }

  function markAnswered(card, verdict) {
    for (const button of card.el.querySelectorAll(".feedback button")) {
      button.disabled = true;
      button.setAttribute("aria-pressed", String(button.dataset.verdict === verdict));
    }
    field(card, "answer").textContent = `Thanks — noted: ${VERDICT[verdict] || verdict}.`;
  }

  async function sendFeedback(card, button) {
    const verdict = button.dataset.verdict;
    const answer = field(card, "answer");
    answer.textContent = "Sending…";
    try {
      const response = await fetch(apiUrl("api/feedback"), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ device: card.device, verdict, trigger_id: card.suggestionId }),
      });
      if (response.status !== 202) {
        const problem = await response.json().catch(() => ({}));
        answer.textContent = `Not sent: ${problem.error || response.statusText}`;
        return;
      }
      markAnswered(card, verdict);
    } catch (error) {
      answer.textContent = "Not sent: the daemon cannot be reached.";
    }
  }

  // ---- history and chart

  async function loadHistory(card) {
    try {
      const response = await fetch(apiUrl(`api/devices/${encodeURIComponent(card.device)}/windows`));
      if (!response.ok) return;
      const data = await response.json();
      const last = data.t_end_s.length ? data.t_end_s[data.t_end_s.length - 1] : -Infinity;
      const keep = card.t.findIndex((t) => t > last);
      const tail = keep < 0 ? 0 : card.t.length - keep;
      card.t = data.t_end_s.concat(card.t.slice(card.t.length - tail));
      card.hr = data.hr_bpm.concat(card.hr.slice(card.hr.length - tail));
      card.stress = data.stress.concat(card.stress.slice(card.stress.length - tail));
      redraw(card);
    } catch (error) {
      // the stream's next snapshot retries
    }
  }

  function addWindows(data) {
    const card = cards.get(data.device);
    if (!card) return;
    for (let i = 0; i < data.t_end_s.length; i++) {
      card.t.push(data.t_end_s[i]);
      card.hr.push(data.hr_bpm[i]);
      card.stress.push(data.stress[i]);
    }
    const newest = card.t[card.t.length - 1];
    let drop = 0;
    while (drop < card.t.length && card.t[drop] < newest - HISTORY_S) drop++;
    if (drop) {
      card.t.splice(0, drop);
      card.hr.splice(0, drop);
      card.stress.splice(0, drop);
    }
    redraw(card);
  }

  function redraw(card) {
    if (card.dirty) return;
    card.dirty = true;
    setTimeout(() => {
      card.dirty = false;
      drawChart(card);
    }, 250);
  }

  function svgEl(name, attrs, text) {
    const el = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, value);
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function path(ts, values, x, y) {
    let d = "";
    let pen = false;
    for (let i = 0; i < ts.length; i++) {
      const v = values[i];
      if (v === null || v === undefined) { pen = false; continue; }
      d += `${pen ? "L" : "M"}${x(ts[i]).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    }
    return d;
  }

  function drawChart(card) {
    const svg = card.el.querySelector(".chart-svg");
    const W = 640, left = 44, right = 8;
    const stressTop = 8, stressH = 92, hrTop = 118, hrH = 50;
    const end = card.t.length ? card.t[card.t.length - 1] : 0;
    const start = end - HISTORY_S;
    const x = (t) => left + ((t - start) / HISTORY_S) * (W - left - right);
    const ys = (v) => stressTop + stressH * (1 - Math.min(Math.max(v, 0), 100) / 100);
    const hrs = card.hr.filter((v) => v !== null);
    let lo = hrs.length ? Math.min(...hrs) : 50;
    let hi = hrs.length ? Math.max(...hrs) : 100;
    if (hi - lo < 20) { const mid = (hi + lo) / 2; lo = mid - 10; hi = mid + 10; }
    lo = Math.floor(lo / 5) * 5; hi = Math.ceil(hi / 5) * 5;
    const yh = (v) => hrTop + hrH * (1 - (v - lo) / (hi - lo));
    const parts = [
      svgEl("rect", { class: "band-high", x: left, y: ys(100), width: W - left - right, height: ys(70) - ys(100) }),
      svgEl("rect", { class: "band-elevated", x: left, y: ys(70), width: W - left - right, height: ys(40) - ys(70) }),
      svgEl("rect", { class: "band-calm", x: left, y: ys(40), width: W - left - right, height: ys(0) - ys(40) }),
      svgEl("rect", { class: "frame", x: left, y: stressTop, width: W - left - right, height: stressH }),
      svgEl("rect", { class: "frame", x: left, y: hrTop, width: W - left - right, height: hrH }),
      svgEl("text", { x: left + 6, y: stressTop + 13 }, "stress"),
      svgEl("text", { x: left - 4, y: ys(100) + 10, "text-anchor": "end" }, "100"),
      svgEl("text", { x: left - 4, y: ys(40) + 4, "text-anchor": "end" }, "40"),
      svgEl("text", { x: left - 4, y: ys(70) + 4, "text-anchor": "end" }, "70"),
      svgEl("text", { x: left + 6, y: hrTop + 13 }, "heart rate (bpm)"),
      svgEl("text", { x: left - 4, y: hrTop + 10, "text-anchor": "end" }, String(hi)),
      svgEl("text", { x: left - 4, y: hrTop + hrH, "text-anchor": "end" }, String(lo)),
    ];
    for (const minutes of [60, 45, 30, 15, 0]) {
      const tx = x(end - minutes * 60);
      const anchor = minutes === 60 ? "start" : minutes === 0 ? "end" : "middle";
      parts.push(svgEl("text", { x: tx, y: 186, "text-anchor": anchor }, minutes ? `−${minutes} min` : "now"));
    }
    for (const trigger of card.triggers) {
      if (trigger.t_s < start) continue;
      parts.push(svgEl("line", { class: "trigger-mark", x1: x(trigger.t_s), x2: x(trigger.t_s), y1: stressTop, y2: hrTop + hrH }));
    }
    parts.push(svgEl("path", { class: "stress-line", d: path(card.t, card.stress, x, ys) }));
    parts.push(svgEl("path", { class: "hr-line", d: path(card.t, card.hr, x, yh) }));
    svg.replaceChildren(...parts);
  }

  // ---- the stream

  function setConnection(state, text) {
    const el = document.getElementById("connection");
    el.dataset.state = state;
    el.textContent = text;
  }

  function connect() {
    const source = new EventSource(apiUrl("api/events"));
    source.addEventListener("devices", (event) => {
      const data = JSON.parse(event.data);
      const report = document.getElementById("report");
      report.hidden = !data.report;
      if (data.report) report.href = apiUrl(data.report);
      for (const device of data.devices) {
        const known = cards.has(device.device);
        showDevice(device);
        if (known) loadHistory(cards.get(device.device));
      }
      setConnection("live", "Live");
    });
    source.addEventListener("device", (event) => showDevice(JSON.parse(event.data)));
    source.addEventListener("window", (event) => addWindows(JSON.parse(event.data)));
    source.addEventListener("open", () => setConnection("live", "Live"));
    source.addEventListener("error", () => setConnection("lost", "Reconnecting…"));
  }

  connect();
})();
