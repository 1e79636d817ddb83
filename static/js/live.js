// Live chart: stream a series over a WebSocket (/ws/live) or SSE (/live/stream) and redraw a
// canvas line chart as each point arrives. The figure's data-points / data-state attributes
// say how far it got (tests read them).
(function () {
  "use strict";
  const figure = document.getElementById("live-chart");
  if (!figure) return;
  const canvas = document.getElementById("live-canvas");
  const status = document.getElementById("live-status");
  const startButton = document.getElementById("live-start");
  const stopButton = document.getElementById("live-stop");
  const form = document.getElementById("live-form");
  let points = [];
  let meta = null;
  let connection = null;
  let pending = false;

  function setState(state, text) {
    figure.dataset.state = state;
    if (text) status.textContent = text;
    startButton.disabled = state === "streaming";
    stopButton.disabled = state !== "streaming";
  }

  function niceTicks(lo, hi, count) {
    if (lo === hi) { lo -= 1; hi += 1; }
    const raw = (hi - lo) / count;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map(function (m) { return m * mag; }).find(function (s) { return s >= raw; });
    const ticks = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step / 1e6; v += step) ticks.push(v);
    return {lo: Math.min(lo, ticks[0]), hi: Math.max(hi, ticks[ticks.length - 1]), ticks: ticks};
  }

  function draw() {
    pending = false;
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth, height = canvas.clientHeight;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const left = 64, right = 16, top = 16, bottom = 36;
    const plotW = width - left - right, plotH = height - top - bottom;
    const values = points.filter(function (p) { return p.y !== null; }).map(function (p) { return p.y; });
    const n = Math.max(meta ? meta.n : points.length, 2);
    const scale = values.length ? niceTicks(Math.min.apply(null, values), Math.max.apply(null, values), 5)
                                : niceTicks(0, 1, 5);
    const x = function (i) { return left + (plotW * i) / (n - 1); };
    const y = function (v) { return top + plotH - (plotH * (v - scale.lo)) / (scale.hi - scale.lo); };
    ctx.font = "12px system-ui, sans-serif";
    ctx.strokeStyle = "#dee2e6";
    ctx.fillStyle = "#495057";
    ctx.lineWidth = 1;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    scale.ticks.forEach(function (t) {
      ctx.beginPath(); ctx.moveTo(left, y(t)); ctx.lineTo(left + plotW, y(t)); ctx.stroke();
      ctx.fillText(Number(t.toPrecision(6)).toString(), left - 6, y(t));
    });
    ctx.textBaseline = "top";
    for (let k = 0; k < 6 && points.length; k++) {
      const i = Math.round((k * (n - 1)) / 5);
      ctx.textAlign = k === 0 ? "left" : (k === 5 ? "right" : "center");
      if (i < points.length) ctx.fillText(points[i].x, x(i), top + plotH + 8);
    }
    ctx.strokeStyle = "#0d6efd";
    ctx.lineWidth = 2;
    ctx.beginPath();
    let drawing = false;
    points.forEach(function (p) {
      if (p.y === null) { drawing = false; return; }
      if (drawing) ctx.lineTo(x(p.i), y(p.y)); else ctx.moveTo(x(p.i), y(p.y));
      drawing = true;
    });
    ctx.stroke();
    const last = points[points.length - 1];
    if (last && last.y !== null) {
      ctx.fillStyle = "#0d6efd";
      ctx.beginPath(); ctx.arc(x(last.i), y(last.y), 4, 0, 2 * Math.PI); ctx.fill();
    }
  }

  function redraw() {
    if (!pending) { pending = true; window.requestAnimationFrame(draw); }
  }

  function handle(message) {
    if (message.type === "meta") {
      meta = message;
      setState("streaming", "Streaming " + message.column + " (" + message.sheet + "), " + message.n + " points…");
    } else if (message.type === "point") {
      points.push({i: message.i, x: message.x, y: message.y});
      figure.dataset.points = String(points.length);
      status.textContent = message.x + ": " + (message.y === null ? "missing" : Number(message.y.toPrecision(6))) +
        " (" + points.length + (meta ? " of " + meta.n : "") + ")";
      redraw();
    } else if (message.type === "end") {
      close();
      setState("done", "Done: " + points.length + " points of " + (meta ? meta.column : "the series") +
        " over " + figure.dataset.transport + ".");
      redraw();
    }
  }

  function close() {
    if (connection) { connection.close(); connection = null; }
  }

  function failed(text) {
    close();
    setState("error", text);
  }

  function openWebSocket(query) {
    // url_for gives a WebSocket route as a full ws:// URL: keep its path, use this page's host.
    const url = new URL(figure.dataset.wsPath, window.location.href);
    url.protocol = window.location.protocol === "https:" ? "wss:" : "ws:";
    url.host = window.location.host;
    url.search = query;
    const ws = new WebSocket(url.toString());
    ws.addEventListener("message", function (e) { handle(JSON.parse(e.data)); });
    ws.addEventListener("close", function () {
      if (figure.dataset.state === "streaming" && connection) failed("The connection closed before the end of the series.");
    });
    return {close: function () { ws.close(); }};
  }

  function openEventSource(query) {
    const source = new EventSource(figure.dataset.ssePath + "?" + query);
    ["meta", "point", "end"].forEach(function (type) {
      source.addEventListener(type, function (e) { handle(Object.assign({type: type}, JSON.parse(e.data))); });
    });
    source.addEventListener("error", function () {
      if (connection) failed("The event stream failed; check the choices and try again.");
    });
    return {close: function () { source.close(); }};
  }

  startButton.addEventListener("click", function () {
    close();
    points = [];
    meta = null;
    figure.dataset.points = "0";
    const data = new FormData(form);
    const transport = data.get("transport");
    data.delete("transport");
    const query = new URLSearchParams(data).toString();
    figure.dataset.transport = transport === "sse" ? "SSE" : "WebSocket";
    setState("streaming", "Connecting…");
    connection = transport === "sse" ? openEventSource(query) : openWebSocket(query);
    redraw();
  });

  stopButton.addEventListener("click", function () {
    close();
    setState("stopped", "Stopped after " + points.length + " points.");
  });

  document.querySelectorAll("select.live-reload").forEach(function (select) {
    select.addEventListener("change", function () {
      if (select.id === "live-dataset") document.getElementById("live-sheet").value = "";
      document.getElementById("live-column").value = "";
      form.submit();
    });
  });
  window.addEventListener("resize", redraw);
  redraw();
})();
