// Jobs: every [data-job-progress] block follows its job's SSE stream until a final state, with a
// cancel button; the price-index form starts a job through the API and shows its bar; the jobs
// list follows the user's change events. Without JavaScript the forms still work.
(function () {
  "use strict";
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const FINAL = ["done", "failed", "cancelled"];
  const BADGES = {queued: "text-bg-secondary", running: "text-bg-primary", done: "text-bg-success",
                  failed: "text-bg-danger", cancelled: "text-bg-warning"};
  const BARS = {done: "bg-success", failed: "bg-danger", cancelled: "bg-secondary"};

  function paintBadge(badge, state) {
    Object.values(BADGES).forEach(function (c) { badge.classList.remove(c); });
    badge.classList.add(BADGES[state] || "text-bg-light");
    badge.textContent = state;
  }

  function paintBar(bar, job) {
    const fill = bar.querySelector(".progress-bar");
    fill.style.width = job.progress + "%";
    fill.textContent = job.progress + "%";
    bar.setAttribute("aria-valuenow", String(job.progress));
    Object.values(BARS).forEach(function (c) { fill.classList.remove(c); });
    if (BARS[job.state]) fill.classList.add(BARS[job.state]);
    if (FINAL.includes(job.state)) fill.classList.remove("progress-bar-striped", "progress-bar-animated");
  }

  async function showResult(box) {
    let target = document.getElementById("result");
    const response = await fetch(box.dataset.resultUrl, {headers: {Accept: "text/html"}});
    if (!response.ok) return;
    const holder = document.createElement("div");
    holder.innerHTML = await response.text();
    const fresh = holder.querySelector("#result");
    if (target) target.replaceWith(fresh);
    else box.after(fresh);
  }

  function follow(box) {
    let source = null;
    const message = box.querySelector(".job-message");
    const problem = box.querySelector(".job-error");

    function say(text) {
      problem.textContent = text;
      problem.classList.toggle("d-none", !text);
    }

    function render(job) {
      box.dataset.state = job.state;
      box.dataset.progress = String(job.progress);
      paintBar(box.querySelector(".progress"), job);
      paintBadge(box.querySelector(".job-state"), job.state);
      message.textContent = job.message || "";
      say(job.error || "");
      if (!FINAL.includes(job.state)) return;
      if (source) source.close();
      box.querySelector(".job-cancel-form").classList.add("d-none");
      if (job.state === "done") {
        box.querySelector(".job-result-link").classList.remove("d-none");
        // A page waiting for the job's output (an analysis whose critical values it simulates)
        // asks to be loaded again instead of showing the job's own result.
        if (box.closest("[data-reload-when-done]")) window.location.reload();
        else showResult(box);
      }
    }

    function open() {
      source = new EventSource(box.dataset.eventsUrl);
      source.addEventListener("job", function (e) { render(JSON.parse(e.data)); });
      source.addEventListener("unavailable", function (e) {
        say(JSON.parse(e.data).message);
      });
      source.addEventListener("error", function () {
        if (source.readyState === EventSource.CLOSED) say("Lost the connection to the server; reload the page.");
      });
    }

    box.querySelector(".job-cancel-form").addEventListener("submit", async function (e) {
      e.preventDefault();
      const response = await fetch(box.dataset.apiUrl, {
        method: "DELETE", headers: {"X-CSRFToken": csrf, Accept: "application/json"}});
      const body = await response.json();
      if (response.ok) render(body);
      else say(body.error ? body.error.message : "Could not cancel (" + response.status + ").");
    });

    if (!FINAL.includes(box.dataset.state)) open();
    else if (box.dataset.state === "done" && !document.getElementById("result")) showResult(box);
  }

  function startForm(form) {
    const area = document.getElementById("job-area");
    const problem = document.getElementById("start-error");
    form.addEventListener("submit", async function (e) {
      e.preventDefault();
      const data = Object.fromEntries(new FormData(form));
      delete data.csrf_token;
      data.kind = "price_index";
      if (!data.q1) data.q1 = null;
      problem.classList.add("d-none");
      // form.dataset would be the form's <input name="dataset">, hence getAttribute
      const response = await fetch(form.getAttribute("data-api-url"), {
        method: "POST",
        headers: {"Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf},
        body: JSON.stringify(data),
      });
      const body = await response.json();
      if (response.status !== 202) {
        problem.textContent = body.error ? body.error.message : "The job did not start (" + response.status + ").";
        problem.classList.remove("d-none");
        return;
      }
      const block = await fetch(area.dataset.progressUrl.replace("/JOB/", "/" + encodeURIComponent(body.id) + "/"));
      const old = document.getElementById("result");
      if (old) old.remove();
      area.innerHTML = await block.text();
      follow(area.querySelector("[data-job-progress]"));
    });
  }

  function followLibrary(library) {
    const source = new EventSource(library.dataset.changesUrl);
    source.addEventListener("change", function (e) {
      const change = JSON.parse(e.data);
      if (change.what !== "jobs") return;
      const row = library.querySelector('[data-job-row="' + CSS.escape(change.id) + '"]');
      if (!row) { window.location.reload(); return; }
      paintBadge(row.querySelector(".job-state"), change.state);
      paintBar(row.querySelector(".progress"), change);
      row.querySelector(".job-message").textContent = change.message || "";
    });
  }

  document.querySelectorAll("[data-job-progress]").forEach(follow);
  const form = document.getElementById("price-index-form");
  if (form) startForm(form);
  document.querySelectorAll("select.auto-submit").forEach(function (select) {
    select.addEventListener("change", function () {
      if (select.id === "pick-dataset") document.getElementById("pick-sheet-name").value = "";
      select.form.submit();
    });
  });
  const library = document.getElementById("jobs-library");
  if (library) followLibrary(library);
})();
