// Live threshold control (Streamlit components v2). Python sends the cut points once per
// model; every pointer move is answered here, and only a released, stepped or typed value
// goes back to Python (setStateValue("value", v)).
//
// Bit-exact with core.metrics: a row is flagged when its score > threshold; the counts at a
// cut point are the ones Python computed; metrics use metrics_from_counts' formulas in the
// same order of float operations; numbers are formatted like Python's format spec.

// --- formatting: identical to Python's f"{x:.Nf}", f"{x:.N%}", f"{n:,}", f"{x:.Ng}" -------
// toFixed / toExponential with 100 digits give the exact decimal value of any double that can
// sit on a rounding tie at <= 10 digits, so ties are detected exactly and rounded half-even,
// as Python does (JavaScript alone rounds ties up).
function roundDigits(digits, keep) {
  // digits: string of decimal digits; keep the first `keep`, half-even on the rest.
  const head = digits.slice(0, keep), next = digits.charCodeAt(keep) - 48, rest = digits.slice(keep + 1);
  const tie = next === 5 && !/[1-9]/.test(rest);
  const last = keep > 0 ? head.charCodeAt(keep - 1) - 48 : 0;
  const up = next > 5 || (next === 5 && !tie) || (tie && last % 2 === 1);
  if (!up) return head;
  const out = head.split("");
  let i = out.length - 1;
  while (i >= 0 && out[i] === "9") { out[i] = "0"; i -= 1; }
  if (i < 0) return "1" + out.join("");
  out[i] = String.fromCharCode(out[i].charCodeAt(0) + 1);
  return out.join("");
}

function fixed(x, d) {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const neg = x < 0 || Object.is(x, -0);
  const exact = Math.abs(x).toFixed(100);
  const [ip, fp] = exact.split(".");
  const rounded = roundDigits(ip + fp, ip.length + d);
  const intLen = rounded.length - d;
  const body = d > 0 ? rounded.slice(0, intLen) + "." + rounded.slice(intLen) : rounded;
  return (neg ? "-" : "") + body.replace(/^0+(?=\d)/, "");
}

function percent(x, d) { return fixed(x * 100, d) + "%"; }

function grouped(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ","); }

function general(x, p) {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const neg = x < 0 || Object.is(x, -0);
  if (x === 0) return neg ? "-0" : "0";
  const [mant, expPart] = Math.abs(x).toExponential(100).split("e");
  let exp = Number(expPart);
  let digits = roundDigits(mant.replace(".", ""), p);
  if (digits.length > p) { digits = digits.slice(0, p); exp += 1; }
  let body;
  if (exp >= -4 && exp < p) {
    if (exp >= 0) body = digits.slice(0, exp + 1) + "." + digits.slice(exp + 1);
    else body = "0." + "0".repeat(-exp - 1) + digits;
    body = body.replace(/\.?0+$/, "");
    if (body.endsWith(".")) body = body.slice(0, -1);
  } else {
    let m = digits[0] + "." + digits.slice(1);
    m = m.replace(/\.?0+$/, "");
    body = m + "e" + (exp < 0 ? "-" : "+") + String(Math.abs(exp)).padStart(2, "0");
  }
  return (neg ? "-" : "") + body;
}

// --- counts and metrics, as core.metrics computes them -------------------------------------
function ratio(num, den) { return den > 0 ? num / den : 0; }

function metricsFromCounts(tp, fp, tn, fn) {
  const precision = ratio(tp, tp + fp), recall = ratio(tp, tp + fn), specificity = ratio(tn, tn + fp);
  const mccDen = Math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn));
  return {
    precision, recall,
    f1: ratio(2 * tp, 2 * tp + fp + fn),
    accuracy: ratio(tp + tn, tp + tn + fp + fn),
    specificity,
    balanced_accuracy: (recall + specificity) / 2,
    mcc: ratio(tp * tn - fp * fn, mccDen),
    fpr: ratio(fp, fp + tn),
  };
}

// Largest i with t[i] <= v, or -1.
function floorIndex(t, v) {
  let lo = 0, hi = t.length - 1, ans = -1;
  while (lo <= hi) { const mid = (lo + hi) >> 1; if (t[mid] <= v) { ans = mid; lo = mid + 1; } else hi = mid - 1; }
  return ans;
}

// Confusion at v, or null where v falls between cut points whose gap hides rows.
function confusionAt(d, v) {
  const t = d.t, i = floorIndex(t, v);
  let below, pos;
  if (i < 0) { below = 0; pos = 0; }
  else if (t[i] === v || d.complete || i === t.length - 1) { below = d.below[i]; pos = d.anom ? d.anom[i] : 0; }
  else return null;
  if (!d.anom) return { threshold: v, tn: below, fp: d.n - below, fn: 0, tp: 0 };
  const fn = pos, tp = d.n_pos - fn;
  return { threshold: v, tn: below - fn, fp: d.n - below - tp, fn, tp };
}

// --- drawing ---------------------------------------------------------------------------------
const SVG = "http://www.w3.org/2000/svg";
const W = 600, H = 120;
const CELLS = [["tn", "Normal kept", "actual normal"], ["fp", "False alarms", "actual normal"],
               ["fn", "Anomalies missed", "actual anomalies"], ["tp", "Anomalies caught", "actual anomalies"]];

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function axis(d) {
  const e = d.hist.edges, lo = e[0], hi = e[e.length - 1];
  if (d.hist.log) {
    const a = Math.log(lo), b = Math.log(hi);
    return (v) => (v <= lo ? 0 : v >= hi ? 1 : (Math.log(v) - a) / (b - a || 1));
  }
  return (v) => (v <= lo ? 0 : v >= hi ? 1 : (v - lo) / (hi - lo || 1));
}

function stepPath(edges, counts, x, top) {
  let p = `M0,${H}`;
  for (let i = 0; i < counts.length; i++) {
    const y = H - (H - 4) * counts[i] / top;
    p += `L${(x(edges[i]) * W).toFixed(2)},${y.toFixed(2)}L${(x(edges[i + 1]) * W).toFixed(2)},${y.toFixed(2)}`;
  }
  return p + `L${W},${H}Z`;
}

function build(root) {
  root.innerHTML = "";
  const head = el("div", "alab-head");
  const label = el("label", "alab-label", "Threshold");
  const input = el("input", "alab-input");
  input.type = "text"; input.inputMode = "decimal"; input.spellcheck = false;
  input.setAttribute("aria-label", "Exact threshold");
  label.appendChild(input);
  const sentence = el("span", "alab-sentence");
  head.append(label, sentence);

  const slider = el("div", "alab-slider");
  slider.tabIndex = 0;
  slider.setAttribute("role", "slider");
  slider.setAttribute("aria-label", "Threshold");
  slider.setAttribute("aria-orientation", "horizontal");
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("class", "alab-hist");
  svg.setAttribute("aria-hidden", "true");
  const normal = document.createElementNS(SVG, "path"); normal.setAttribute("class", "alab-normal");
  const anomaly = document.createElementNS(SVG, "path"); anomaly.setAttribute("class", "alab-anomaly");
  const line = document.createElementNS(SVG, "line"); line.setAttribute("class", "alab-line");
  line.setAttribute("y1", "0"); line.setAttribute("y2", String(H));
  svg.append(normal, anomaly, line);
  const track = el("div", "alab-track");
  const thumb = el("div", "alab-thumb");
  track.appendChild(thumb);
  const ends = el("div", "alab-ends");
  const lo = el("span"), hi = el("span");
  ends.append(lo, hi);
  slider.append(svg, track);

  const matrix = el("div", "alab-matrix");
  const cells = {};
  for (const [key, name, of] of CELLS) {
    const cell = el("div", `alab-cell alab-${key}`);
    cell.dataset.cell = key;
    const count = el("span", "alab-count"), share = el("span", "alab-share");
    cell.append(el("span", "alab-name", name), count, share);
    cell.title = `share of ${of}`;
    matrix.appendChild(cell);
    cells[key] = { cell, count, share };
  }
  const metricsBox = el("div", "alab-metrics");
  root.append(head, slider, ends, matrix, metricsBox);
  return { input, sentence, slider, svg, normal, anomaly, line, thumb, lo, hi, matrix, cells, metricsBox, metricEls: {} };
}

function setData(root, d) {
  const ui = root.__ui;
  const x = axis(d);
  const e = d.hist.edges;
  const top = Math.max(1, ...d.hist.normal, ...(d.hist.anomaly || [0]));
  ui.normal.setAttribute("d", stepPath(e, d.hist.normal, x, top));
  ui.normal.setAttribute("class", d.hist.anomaly ? "alab-normal" : "alab-all");
  ui.anomaly.setAttribute("d", d.hist.anomaly ? stepPath(e, d.hist.anomaly, x, top) : "");
  ui.lo.textContent = general(e[0], 4);
  ui.hi.textContent = general(e[e.length - 1], 4) + (d.hist.log ? " (log scale)" : "");
  ui.slider.setAttribute("aria-valuemin", String(d.t[0]));
  ui.slider.setAttribute("aria-valuemax", String(d.t[d.t.length - 1]));
  ui.matrix.hidden = !d.labelled;
  ui.metricsBox.innerHTML = "";
  ui.metricEls = {};
  const names = d.labelled ? d.metrics : [["flagged", "Rows flagged"], ["share_flagged", "Share flagged"]];
  for (const [key, name] of names) {
    const box = el("div", "alab-metric");
    box.dataset.metric = key;
    const value = el("span", "alab-value");
    box.append(el("span", "alab-mname", name), value);
    ui.metricsBox.appendChild(box);
    ui.metricEls[key] = value;
  }
  // Position of every cut point on the axis, for snapping the pointer.
  root.__px = Float64Array.from(d.t, x);
  root.__x = x;
}

function show(root, v) {
  const d = root.__data, ui = root.__ui, c = confusionAt(d, v);
  root.__value = v;
  if (root.getRootNode().activeElement !== ui.input) ui.input.value = general(v, 6);  // six significant digits, as everywhere else
  const px = root.__x(v) * 100;
  ui.line.setAttribute("x1", String(px * W / 100)); ui.line.setAttribute("x2", String(px * W / 100));
  ui.thumb.style.left = `${px}%`;
  ui.slider.setAttribute("aria-valuenow", String(v));
  ui.slider.dataset.value = String(v);
  if (!c) {
    ui.slider.dataset.exact = "false";
    ui.slider.setAttribute("aria-valuetext", `threshold ${general(v, 6)}, counts on release`);
    ui.sentence.textContent = "Counting…";
    for (const k in ui.cells) { ui.cells[k].count.textContent = "…"; ui.cells[k].share.textContent = ""; }
    for (const k in ui.metricEls) ui.metricEls[k].textContent = "…";
    return;
  }
  ui.slider.dataset.exact = "true";
  const flagged = c.fp + c.tp, n = d.n;
  const flaggedText = `flags ${grouped(flagged)} of ${grouped(n)} ${d.rows_label} (${percent(ratio(flagged, n), 2)})`;
  ui.slider.setAttribute("aria-valuetext", `threshold ${general(v, 6)}, ${flaggedText}`);
  const tx = texts(d, c);
  // With labels, the sentence says what the threshold costs and catches, live: no second sentence lags behind it.
  ui.sentence.textContent = `Flag a row when its anomaly score exceeds ${general(v, 6)}: ${flaggedText}` + (d.labelled ? ` — ${tx.detail}` : ".");
  if (d.labelled) {
    for (const k of ["tn", "fp", "fn", "tp"]) {
      ui.cells[k].count.textContent = tx[`${k}_count`];
      ui.cells[k].share.textContent = tx[`${k}_share`];
    }
    for (const [key] of d.metrics) ui.metricEls[key].textContent = tx[key];
  } else {
    ui.metricEls.flagged.textContent = tx.flagged;
    ui.metricEls.share_flagged.textContent = tx.share_flagged;
  }
}

// The texts shown at confusion c: the same keys and formats as ui.threshold_control.display_texts.
function texts(d, c) {
  const flagged = c.fp + c.tp;
  if (!d.labelled) return { flagged: grouped(flagged), share_flagged: percent(ratio(flagged, d.n), 2) };
  const normalRows = c.tn + c.fp, anomalyRows = c.fn + c.tp;
  const shares = { tn: ratio(c.tn, normalRows), fp: ratio(c.fp, normalRows), fn: ratio(c.fn, anomalyRows), tp: ratio(c.tp, anomalyRows) };
  const out = {};
  for (const k of ["tn", "fp", "fn", "tp"]) { out[`${k}_count`] = grouped(c[k]); out[`${k}_share`] = percent(shares[k], 1); }
  const m = metricsFromCounts(c.tp, c.fp, c.tn, c.fn);
  for (const [key] of d.metrics) out[key] = fixed(m[key], 3);
  out.detail = `${out.tp_share} of anomalies caught (${out.tp_count} of ${grouped(anomalyRows)}), `
    + `${out.fp_share} of normal rows flagged (false alarms: ${out.fp_count}).`;
  return out;
}

function nearestIndex(root, f) {
  const px = root.__px, n = px.length;
  if (f <= 0) return 0;
  if (f >= 1) return n - 1;
  let lo = 0, hi = n - 1;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (px[mid] < f) lo = mid + 1; else hi = mid; }
  if (lo > 0 && f - px[lo - 1] <= px[lo] - f) return lo - 1;
  return lo;
}

function commit(root, v) {
  if (root.__committed === v) return;
  root.__committed = v;
  root.__memory.set(root.__key, { value: v, seq: root.__data.seq });
  root.__ctx.setStateValue("value", v);
}

function listen(root) {
  const ui = root.__ui;
  const fromPointer = (ev) => {
    const r = ui.slider.getBoundingClientRect();
    const i = nearestIndex(root, (ev.clientX - r.left) / (r.width || 1));
    show(root, root.__data.t[i]);
  };
  ui.slider.addEventListener("pointerdown", (ev) => {
    if (ev.button !== 0) return;
    root.__dragging = true;
    ui.slider.focus();
    try { ui.slider.setPointerCapture(ev.pointerId); } catch (_) { /* synthetic events */ }
    fromPointer(ev);
    ev.preventDefault();
  });
  ui.slider.addEventListener("pointermove", (ev) => { if (root.__dragging) fromPointer(ev); });
  const release = (ev) => {
    if (!root.__dragging) return;
    root.__dragging = false;
    fromPointer(ev);
    commit(root, root.__value);
  };
  ui.slider.addEventListener("pointerup", release);
  ui.slider.addEventListener("pointercancel", release);
  ui.slider.addEventListener("keydown", (ev) => {
    const t = root.__data.t, v = root.__value, m = t.length;
    const page = Math.max(1, Math.round(m / 20));
    const at = floorIndex(t, v), exact = at >= 0 && t[at] === v;
    const up = (k) => Math.min(m - 1, exact ? at + k : at + k);  // at is the cut below v
    const down = (k) => Math.max(0, exact ? at - k : at - k + 1);
    const moves = { ArrowRight: () => up(1), ArrowUp: () => up(1), ArrowLeft: () => down(1), ArrowDown: () => down(1),
                    PageUp: () => up(page), PageDown: () => down(page), Home: () => 0, End: () => m - 1 };
    if (!(ev.key in moves)) return;
    ev.preventDefault();
    show(root, t[Math.max(0, moves[ev.key]())]);
  });
  ui.slider.addEventListener("keyup", (ev) => {
    if (["ArrowRight", "ArrowUp", "ArrowLeft", "ArrowDown", "PageUp", "PageDown", "Home", "End"].includes(ev.key)) commit(root, root.__value);
  });
  const typed = () => {
    if (ui.input.value.trim() === general(root.__value, 6)) return;  // unedited: the exact value stays, not its six digits
    const v = Number(ui.input.value.trim());
    if (ui.input.value.trim() === "" || !Number.isFinite(v)) { ui.input.value = general(root.__value, 6); return; }
    show(root, v);
    commit(root, v);
  };
  ui.input.addEventListener("change", typed);
  ui.input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") { ev.preventDefault(); typed(); }
    if (ev.key === "Escape") ui.input.value = general(root.__value, 6);
  });
}

export default function (component) {
  const { data, setStateValue, parentElement, key } = component;
  const memory = (window.__anomalyLabThreshold = window.__anomalyLabThreshold || new Map());
  let root = parentElement.querySelector(".alab-thr");
  const fresh = !root;
  if (fresh) {
    root = el("div", "alab-thr");
    parentElement.appendChild(root);
    root.__ui = build(root);
    listen(root);
  }
  root.__ctx = { setStateValue };
  root.__key = key;
  root.__memory = memory;
  const changed = root.__stamp !== data.stamp;
  root.__data = data;
  if (fresh || changed) { root.__stamp = data.stamp; setData(root, data); }
  // Python's value wins when it was set from outside (a new seq); otherwise keep what the
  // hand left here, also across a remount of the same component.
  let v;
  const kept = memory.get(key);
  const sameSeq = !fresh && root.__seq === data.seq;
  if (sameSeq) v = root.__value;
  else if (fresh && kept && kept.seq === data.seq) v = kept.value;
  else v = data.value;
  if (!sameSeq) { root.__seq = data.seq; root.__committed = v; }
  if (!root.__dragging) show(root, v);
}

export { fixed, percent, grouped, general, metricsFromCounts, confusionAt, texts };
