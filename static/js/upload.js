// Upload page: each file travels to POST /api/v1/datasets with a progress bar, then is parsed;
// one file opens its dataset page, several open the library. Errors are shown per file. Big
// files (data-background-bytes) are parsed by a background job whose progress the bar follows.
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  const input = document.getElementById("file-input");
  const zone = document.getElementById("dropzone");
  const list = document.getElementById("upload-list");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  function row(file) {
    const item = document.createElement("li");
    item.className = "mb-3";
    const label = document.createElement("div");
    label.textContent = file.name;
    const bar = document.createElement("div");
    bar.className = "progress";
    bar.setAttribute("role", "progressbar");
    bar.setAttribute("aria-label", "Upload of " + file.name);
    bar.setAttribute("aria-valuemin", "0");
    bar.setAttribute("aria-valuemax", "100");
    const fill = document.createElement("div");
    fill.className = "progress-bar";
    fill.style.width = "0%";
    bar.appendChild(fill);
    const status = document.createElement("div");
    status.className = "small text-body-secondary";
    item.append(label, bar, status);
    list.appendChild(item);
    return {item, bar, fill, status};
  }

  // A background parse can be cancelled; the job's stream then reports it.
  function cancelButton(ui, job) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-outline-danger btn-sm mt-1 upload-cancel";
    button.textContent = "Cancel";
    button.setAttribute("aria-label", "Cancel parsing " + ui.item.firstChild.textContent);
    button.addEventListener("click", async function () {
      button.disabled = true;
      const response = await fetch(form.dataset.jobApi.replace("/JOB", "/" + encodeURIComponent(job.id)), {
        method: "DELETE", headers: {"X-CSRFToken": csrf, Accept: "application/json"}});
      if (!response.ok) {
        const body = await response.json();
        ui.status.textContent = body.error ? body.error.message : "Could not cancel (" + response.status + ").";
      }
    });
    ui.item.appendChild(button);
    return button;
  }

  function paint(ui, pct, text) {
    ui.fill.style.width = pct + "%";
    ui.bar.setAttribute("aria-valuenow", String(pct));
    ui.status.textContent = text;
  }

  function fail(ui, text) {
    ui.fill.classList.remove("progress-bar-striped", "progress-bar-animated");
    ui.fill.classList.add("bg-danger");
    ui.fill.style.width = "100%";
    ui.status.className = "small text-danger";
    ui.status.textContent = text;
  }

  function succeed(ui, text) {
    ui.fill.classList.remove("progress-bar-striped", "progress-bar-animated");
    ui.fill.classList.add("bg-success");
    paint(ui, 100, text);
  }

  // Follow an ingest job until it ends; resolves {id, sheets} of its dataset, or null.
  function followJob(ui, job) {
    ui.fill.classList.remove("progress-bar-striped", "progress-bar-animated");
    paint(ui, job.progress, "Parsing in the background… " + job.progress + "%");
    const cancel = cancelButton(ui, job);
    return new Promise(function (settle) {
      function resolve(value) {
        cancel.remove();
        settle(value);
      }
      const source = new EventSource(form.dataset.jobEvents.replace("/JOB/", "/" + encodeURIComponent(job.id) + "/"));
      source.addEventListener("job", function (e) {
        const now = JSON.parse(e.data);
        paint(ui, now.progress, (now.message || "Parsing") + "… " + now.progress + "%");
        if (now.state === "done" && now.result.family) {
          source.close();
          const problems = now.result.problems.map(function (p) { return p.name + ": " + p.reason; });
          succeed(ui, now.result.datasets.length + " release(s) in " + now.result.family_name +
                  (problems.length ? ". Not ingested: " + problems.join("; ") : ""));
          resolve({family: now.result.family, problems: problems.length});
        } else if (now.state === "done") {
          source.close();
          succeed(ui, (now.result.created ? "Ready: " : "Already uploaded: ") + now.result.sheets + " sheet(s)");
          resolve({id: now.result.dataset});
        } else if (now.state === "failed" || now.state === "cancelled") {
          source.close();
          fail(ui, now.error || "The upload was cancelled.");
          resolve(null);
        }
      });
      source.addEventListener("unavailable", function (e) {
        source.close();
        fail(ui, JSON.parse(e.data).message);
        resolve(null);
      });
      source.addEventListener("error", function () {
        if (source.readyState !== EventSource.CLOSED) return;
        fail(ui, "Lost the connection to the server; the file may still be parsing (see Jobs).");
        resolve(null);
      });
    });
  }

  // Releases of one family travel together: one request, one job, one bar.
  function sendTogether(files, family) {
    const label = files.length === 1 ? files[0].name : files.length + " files as releases";
    return send({name: label, size: 0}, files, family);
  }

  function send(file, together, family) {
    const ui = row(file);
    const background = !together && file.size >= Number(form.dataset.backgroundBytes);
    return new Promise(function (resolve) {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.dataset.api + (background ? "?background=true" : ""));
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (e) {
        if (!e.lengthComputable) return;
        const pct = Math.round((e.loaded / e.total) * 100);
        paint(ui, pct, pct < 100 ? "Uploading… " + pct + "%" : (background ? "Queueing…" : "Parsing…"));
        if (pct === 100) ui.fill.classList.add("progress-bar-striped", "progress-bar-animated");
      };
      xhr.onload = function () {
        ui.fill.classList.remove("progress-bar-striped", "progress-bar-animated");
        let body = null;
        try { body = JSON.parse(xhr.responseText); } catch (err) { body = null; }
        if (xhr.status === 202) {
          resolve(followJob(ui, body));
        } else if (xhr.status === 200 || xhr.status === 201) {
          succeed(ui, (xhr.status === 200 ? "Already uploaded: " : "Ready: ") + body.sheets.length + " sheet(s)");
          resolve(body);
        } else {
          fail(ui, body && body.error ? body.error.message : "Upload failed (" + xhr.status + ").");
          resolve(null);
        }
      };
      xhr.onerror = function () {
        ui.status.textContent = "The connection failed.";
        resolve(null);
      };
      const data = new FormData();
      (together || [file]).forEach(function (f) { data.append("file", f); });
      if (family) data.append("family", family);
      xhr.send(data);
    });
  }

  async function uploadAll(files) {
    const family = document.getElementById("family-choice").value;
    const zipped = files.some(function (f) { return /\.zip$/i.test(f.name); });
    if (family || zipped) {
      const done = await sendTogether(files, family);
      if (done && done.family && !done.problems) {
        window.location.assign(form.dataset.familyPage.replace("FAMILY", encodeURIComponent(done.family)));
      } else if (done && done.id) {
        window.location.assign("/datasets/" + encodeURIComponent(done.id));
      }
      return;
    }
    const results = [];
    for (const file of files) results.push(await send(file));
    const ok = results.filter(Boolean);
    if (files.length === 1 && ok.length === 1) {
      window.location.assign("/datasets/" + encodeURIComponent(ok[0].id));
    } else if (ok.length === files.length && ok.length > 0) {
      window.location.assign(form.dataset.library);
    }
  }

  input.addEventListener("change", function () { if (input.files.length) uploadAll(Array.from(input.files)); });
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.add("dragover"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.remove("dragover"); });
  });
  zone.addEventListener("drop", function (e) {
    if (e.dataTransfer.files.length) uploadAll(Array.from(e.dataTransfer.files));
  });
})();
