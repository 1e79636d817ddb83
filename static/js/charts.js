// Charts: the builder (live preview, save) and the chart page (draw with Bokeh or Plotly).
// Chart JSON is fetched from the API and handed to the libraries as data, never as markup.
(function () {
  "use strict";

  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const CSRF = csrfMeta ? csrfMeta.content : "";
  const NONCE = document.currentScript ? document.currentScript.nonce : "";
  const loading = {};

  function loadScript(src) {
    if (!loading[src]) {
      loading[src] = new Promise(function (resolve, reject) {
        const script = document.createElement("script");
        script.src = src;
        if (NONCE) script.nonce = NONCE;
        script.onload = resolve;
        script.onerror = function () { reject(new Error("Could not load " + src)); };
        document.head.appendChild(script);
      });
    }
    return loading[src];
  }

  async function errorMessage(response) {
    try {
      const body = await response.json();
      if (body && body.error && body.error.message) return body.error.message;
    } catch (e) { /* not JSON: fall through */ }
    return "The server answered " + response.status + ".";
  }

  // Draw chart JSON into `holder` (emptied first); resolves when the library has drawn it.
  async function drawInteractive(holder, renderer, item, id) {
    if (renderer === "bokeh") {
      const target = document.createElement("div");
      target.id = id;
      holder.replaceChildren(target);
      await window.Bokeh.embed.embed_item(item, id);
      return;
    }
    let target = holder.querySelector(".js-plotly-plot");
    if (!target) {
      target = document.createElement("div");
      target.id = id;
      holder.replaceChildren(target);
    }
    // A chart wider than the screen shrinks to fit (Plotly lays it out again).
    const layout = Object.assign({}, item.layout);
    const room = holder.clientWidth - 2;
    if (layout.width && room >= 200 && layout.width > room) layout.width = room;
    await window.Plotly.react(target, item.data, layout, { displaylogo: false, responsive: true });
  }

  // -- the chart page ------------------------------------------------------------------------
  function initChartPage(holder) {
    const renderer = holder.dataset.renderer;
    const status = document.getElementById("chart-status");
    fetch(holder.dataset.src, { credentials: "same-origin" })
      .then(async function (response) {
        if (!response.ok) throw new Error(await errorMessage(response));
        return response.json();
      })
      .then(function (item) { return drawInteractive(holder, renderer, item, "chart-plot"); })
      .then(function () {
        holder.removeAttribute("aria-busy");
        holder.dataset.state = "ready";
        if (status) status.textContent = "";
      })
      .catch(function (error) {
        holder.removeAttribute("aria-busy");
        holder.replaceChildren();
        holder.dataset.state = "error";
        if (status) {
          status.textContent = error.message;
          status.classList.add("alert", "alert-danger");
        }
      });
  }

  // -- the builder ---------------------------------------------------------------------------
  function initBuilder(root) {
    const form = document.getElementById("chart-form");
    const kindFields = JSON.parse(root.dataset.kindFields);
    const assets = JSON.parse(root.dataset.assets);
    let initial = JSON.parse(root.dataset.initial || "{}");
    const preview = document.getElementById("preview");
    const status = document.getElementById("preview-status");
    const problem = document.getElementById("preview-error");
    const saveButton = document.getElementById("save-chart");
    const el = function (id) { return document.getElementById(id); };
    let dataset = null;  // GET /api/v1/datasets/<id>
    // Per sheet of the page's dataset: the scatter's most correlated [x, y], the pie's category.
    const hints = JSON.parse(root.dataset.hints || "{}");
    let timer = null;
    let controller = null;
    let objectUrl = null;
    let renders = 0;

    const OPTION_KINDS = {
      bins: ["hist"], agg: ["bar", "pie"], cols: ["small_multiples"], fit: ["scatter"],
    };
    const NO_LOG = ["pie", "heatmap"];
    const X_LABELS = {
      bar: "Categories", pie: "Categories", scatter: "X (numbers)",
      line: "X axis", small_multiples: "X axis",
    };
    const Y_LABELS = {
      bar: "Values (none: count rows)", pie: "Values to add up (none: count rows)",
      heatmap: "Columns (two or more)", compare_sheets: "Series (in every sheet)",
    };

    function show(id, visible) { el(id).classList.toggle("d-none", !visible); }
    function isNumeric(column) { return /^(u?int|float|Int|UInt|Float|decimal)/.test(column.dtype); }
    // What a column holds, in a word a reader knows ("number", not "int64").
    function kindOf(column) {
      if (isNumeric(column)) return "number";
      if (/^(datetime|date)/.test(column.dtype)) return "date";
      if (/^period/.test(column.dtype)) return "period";
      return /^bool/.test(column.dtype) ? "yes/no" : "text";
    }
    function currentSheet() {
      if (!dataset) return null;
      return dataset.sheets.find(function (s) { return s.name === el("sheet").value; }) || null;
    }
    function option(select, value, label, selected) {
      const opt = document.createElement("option");
      opt.value = value;
      opt.textContent = label;
      if (selected) opt.selected = true;
      select.appendChild(opt);
    }
    function checkbox(list, name, value, label, checked, index) {
      const wrap = document.createElement("div");
      wrap.className = "form-check";
      const input = document.createElement("input");
      input.className = "form-check-input";
      input.type = "checkbox";
      input.name = name;
      input.value = value;
      input.id = name + "-" + index;
      input.checked = checked;
      const text = document.createElement("label");
      text.className = "form-check-label";
      text.htmlFor = input.id;
      text.textContent = label;
      wrap.append(input, text);
      list.appendChild(wrap);
    }
    function checked(name) {
      return Array.from(form.querySelectorAll('input[name="' + name + '"]:checked'))
        .map(function (input) { return input.value; });
    }

    async function loadDataset(id) {
      status.textContent = "Loading the dataset…";
      const response = await fetch(root.dataset.datasetUrl + encodeURIComponent(id),
        { credentials: "same-origin" });
      if (!response.ok) throw new Error(await errorMessage(response));
      dataset = await response.json();
      const sheet = el("sheet");
      sheet.replaceChildren();
      const wanted = initial.sheet || root.dataset.defaultSheet;
      dataset.sheets.forEach(function (s) {
        option(sheet, s.name, s.name + " (" + s.n_rows + " rows)", s.name === wanted);
      });
      fillColumns();
    }

    function fillColumns() {
      const sheet = currentSheet();
      const columns = sheet ? sheet.columns : [];
      const keepY = initial.y || checked("y");
      const keepSheets = initial.sheets || checked("sheets");
      const keepX = initial.x !== undefined ? initial.x : el("x").value;
      const keepGroup = initial.group !== undefined ? initial.group : el("group").value;
      for (const id of ["x", "group"]) {
        const select = el(id);
        select.replaceChildren();
        option(select, "", id === "x" ? "(the index / row order)" : "(none)", false);
        columns.forEach(function (c) {
          option(select, c.name, c.name + " (" + kindOf(c) + ")",
            c.name === (id === "x" ? keepX : keepGroup));
        });
      }
      const yList = el("y-list");
      yList.replaceChildren();
      const numeric = columns.filter(isNumeric);
      // Nothing chosen yet (or nothing that this sheet has): start with the first number column.
      const anyKept = numeric.some(function (c) { return keepY.includes(c.name); });
      numeric.forEach(function (c, i) {
        checkbox(yList, "y", c.name, c.name, anyKept ? keepY.includes(c.name) : i === 0, i);
      });
      if (!yList.children.length) {
        yList.textContent = "This sheet has no numeric columns.";
      }
      const sheetList = el("sheets-list");
      sheetList.replaceChildren();
      (dataset ? dataset.sheets : []).forEach(function (s, i) {
        // Comparable sheets share the kind of index (quarters with quarters).
        const comparable = !sheet || !sheet.index ||
          (s.index && s.index.kind === sheet.index.kind);
        if (sheet && s.name !== sheet.name && comparable) {
          checkbox(sheetList, "sheets", s.name, s.name, keepSheets.includes(s.name), i);
        }
      });
      const options = initial.options || {};
      if (initial.kind) {
        el("kind").value = initial.kind;
        el("title").value = options.title || "";
        el("log_y").checked = !!options.log_y;
        el("start").value = options.start || "";
        el("end").value = options.end || "";
        el("bins").value = options.bins || "";
        el("agg").value = options.agg || "";
        el("cols").value = options.cols || "";
        el("fit").checked = options.fit !== false;
      }
      initial = {};
      adaptToKind();
    }

    function startFromTheData(kind, sheet) {
      const hint = (dataset && sheet && (hints[dataset.id] || {})[sheet.name]) || {};
      const xSelect = el("x");
      const ys = Array.from(form.querySelectorAll('input[name="y"]'));
      if (kind === "scatter" && hint.scatter &&
          (xSelect.value === "" || checked("y").includes(xSelect.value))) {
        xSelect.value = hint.scatter[0];  // not Price against Price
        ys.forEach(function (input) { input.checked = input.value === hint.scatter[1]; });
      }
      const x = sheet && sheet.columns.find(function (c) { return c.name === xSelect.value; });
      if (kind === "pie" && hint.category && (!x || isNumeric(x))) {
        xSelect.value = hint.category;  // counts of a category, not a sum of prices
        ys.forEach(function (input) { input.checked = false; });
      }
    }

    function adaptToKind() {
      const kind = el("kind").value;
      const rules = kindFields[kind];
      const sheet = currentSheet();
      startFromTheData(kind, sheet);
      // Bar and pie read one category column, from x or group: the form offers x only.
      show("field-x", rules.x !== "no");
      show("field-group", rules.group && kind !== "bar" && kind !== "pie");
      show("field-sheets", rules.sheets);
      const xSelect = el("x");
      xSelect.options[0].disabled = rules.x === "required";
      if ((kind === "bar" || kind === "pie") && xSelect.value === "" && sheet) {
        // Categories come from a text column, if the sheet has one, rather than every row.
        const text = sheet.columns.find(function (c) { return !isNumeric(c); });
        if (text) xSelect.value = text.name;
      }
      if (rules.x === "required" && xSelect.value === "") {
        const numeric = Array.from(xSelect.options).find(function (o, i) {
          return i > 0 && sheet && isNumeric(sheet.columns[i - 1]);
        });
        if (numeric) xSelect.value = numeric.value;
      }
      if (rules.sheets && !checked("sheets").length) {
        const first = el("sheets-list").querySelector("input");
        if (first) first.checked = true;
      }
      el("x-label").textContent = X_LABELS[kind] || "X";
      el("y-legend").textContent = Y_LABELS[kind] || "Y columns";
      show("option-log_y", !NO_LOG.includes(kind));
      show("option-range", !!(sheet && sheet.index));
      for (const [name, kinds] of Object.entries(OPTION_KINDS)) {
        show("option-" + name, kinds.includes(kind));
      }
    }

    function spec(forPreview) {
      const kind = el("kind").value;
      const rules = kindFields[kind];
      const options = {};
      const title = el("title").value.trim();
      if (title) options.title = title;
      if (!NO_LOG.includes(kind) && el("log_y").checked) options.log_y = true;
      if (!el("option-range").classList.contains("d-none")) {
        if (el("start").value.trim()) options.start = el("start").value.trim();
        if (el("end").value.trim()) options.end = el("end").value.trim();
      }
      if (kind === "hist" && el("bins").value) options.bins = parseInt(el("bins").value, 10);
      if ((kind === "bar" || kind === "pie") && el("agg").value) options.agg = el("agg").value;
      if (kind === "small_multiples" && el("cols").value) {
        options.cols = parseInt(el("cols").value, 10);
      }
      if (kind === "scatter" && !el("fit").checked) options.fit = false;
      if (forPreview) {
        // Draw the preview at the width it is shown, so it is neither blurred nor cut off.
        const width = Math.round(preview.clientWidth);
        options.width = Math.max(200, Math.min(width, 4000));
      }
      return {
        dataset: el("dataset").value,
        sheet: el("sheet").value,
        kind: kind,
        x: rules.x !== "no" && el("x").value ? el("x").value : null,
        y: checked("y"),
        group: rules.group && kind === "box" && el("group").value ? el("group").value : null,
        sheets: rules.sheets ? checked("sheets") : null,
        options: options,
      };
    }

    function renderer() { return form.querySelector('input[name="renderer"]:checked').value; }

    function showProblem(message) {
      problem.textContent = message;
      problem.classList.toggle("d-none", !message);
    }

    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(updatePreview, 250);
    }

    async function updatePreview() {
      if (!dataset || !el("sheet").value) return;
      const body = spec(true);
      const chosen = renderer();
      const rules = kindFields[body.kind];
      if (body.y.length < rules.y[0]) {
        showProblem("");
        status.textContent = "Choose at least " + rules.y[0] + " column" +
          (rules.y[0] > 1 ? "s" : "") + " to draw.";
        return;
      }
      if (rules.sheets && !body.sheets.length) {
        showProblem("");
        status.textContent = "Choose a sheet to compare with.";
        return;
      }
      if (controller) controller.abort();
      controller = new AbortController();
      const signal = controller.signal;
      status.textContent = "Drawing…";
      preview.setAttribute("aria-busy", "true");
      try {
        if (chosen === "bokeh" || chosen === "plotly") await loadScript(assets[chosen]);
        const url = root.dataset.previewUrl + "?format=" + chosen;
        const response = await fetch(url, {
          method: "POST", credentials: "same-origin", signal: signal,
          headers: { "Content-Type": "application/json", "X-CSRFToken": CSRF },
          body: JSON.stringify(body),
        });
        if (!response.ok) throw new Error(await errorMessage(response));
        if (chosen === "png" || chosen === "svg") {
          const blob = await response.blob();
          const img = document.createElement("img");
          img.className = "img-fluid";
          img.alt = "Preview of the chart";
          const old = objectUrl;
          objectUrl = URL.createObjectURL(blob);
          img.src = objectUrl;
          await img.decode();
          preview.replaceChildren(img);
          if (old) URL.revokeObjectURL(old);
        } else {
          const item = await response.json();
          if (chosen === "bokeh" || preview.dataset.renderer !== "plotly") {
            preview.replaceChildren();
          }
          await drawInteractive(preview, chosen, item, "preview-plot-" + (renders + 1));
        }
        renders += 1;
        preview.dataset.renderer = chosen;
        preview.dataset.renders = String(renders);
        showProblem("");
        status.textContent = "Preview updated.";
      } catch (error) {
        if (error.name === "AbortError") return;
        showProblem(error.message);
        status.textContent = "";
      } finally {
        if (!signal.aborted) preview.removeAttribute("aria-busy");
      }
    }

    async function save(event) {
      event.preventDefault();
      saveButton.disabled = true;
      try {
        const response = await fetch(root.dataset.saveUrl, {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": CSRF },
          body: JSON.stringify(spec(false)),
        });
        if (!response.ok) throw new Error(await errorMessage(response));
        const created = await response.json();
        window.location.assign(created.url + "?renderer=" + encodeURIComponent(renderer()));
      } catch (error) {
        showProblem(error.message);
        saveButton.disabled = false;
      }
    }

    el("dataset").addEventListener("change", function () {
      initial = {};
      loadDataset(el("dataset").value).then(schedule).catch(function (e) {
        showProblem(e.message);
      });
    });
    el("sheet").addEventListener("change", function () { fillColumns(); schedule(); });
    el("kind").addEventListener("change", function () { adaptToKind(); schedule(); });
    form.addEventListener("change", function (event) {
      if (!["dataset", "sheet", "kind"].includes(event.target.id)) schedule();
    });
    form.addEventListener("input", function (event) {
      if (event.target.type === "text" || event.target.type === "number") schedule();
    });
    form.addEventListener("submit", save);
    loadDataset(el("dataset").value).then(schedule).catch(function (e) {
      status.textContent = "";
      showProblem(e.message);
    });
  }

  const builder = document.getElementById("chart-builder");
  if (builder) initBuilder(builder);
  const plot = document.getElementById("chart-holder");
  if (plot && plot.dataset.src) initChartPage(plot);
})();
