// Reports page: say the build is starting, stop a second click from starting it twice, and
// keep the list's status badges current while builds run (the user's change events over SSE).
(function () {
  "use strict";
  const BADGES = {done: "text-bg-success", failed: "text-bg-danger"};

  function followList(list) {
    if (!list.querySelector('[data-report-id] .report-status:not(.text-bg-success):not(.text-bg-danger)')) return;
    const source = new EventSource(list.dataset.changesUrl);
    source.addEventListener("change", async function (e) {
      const change = JSON.parse(e.data);
      if (change.what !== "reports") return;
      const item = list.querySelector('[data-report-id="' + CSS.escape(change.id) + '"]');
      if (!item) return;
      const response = await fetch(list.dataset.reportApi.replace("REPORT", encodeURIComponent(change.id)),
                                   {headers: {Accept: "application/json"}});
      if (!response.ok) return;
      const report = await response.json();
      const badge = item.querySelector(".report-status");
      badge.className = "badge report-status " + (BADGES[report.status] || "text-bg-secondary");
      badge.textContent = report.status;
    });
  }

  const list = document.getElementById("report-list");
  if (list) followList(list);
  const form = document.getElementById("report-form");
  if (!form) return;
  form.addEventListener("submit", function () {
    const button = document.getElementById("build");
    button.disabled = true;
    form.querySelector(".building").classList.remove("d-none");
  });
})();
