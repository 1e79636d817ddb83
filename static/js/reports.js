// Reports page: say the build is starting, stop a second click from starting it twice, and
// keep the list's status badges current while builds run (the user's change events over SSE).
(function () {
  "use strict";
  const BADGES = {done: "text-bg-success", failed: "text-bg-danger"};

  function followList(list) {
    if (!list.querySelector('[data-report-id] .report-status:not(.text-bg-success):not(.text-bg-danger):not(.text-bg-info)')) return;  // drafts wait for a click
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
  // Another dataset: load the form for it, never build on the old one meanwhile.
  const dataset = document.querySelector("#dataset[data-auto-submit]");
  if (dataset) dataset.addEventListener("change", function () {
    document.getElementById("build").disabled = true;
    dataset.form.submit();
  });
  // Another growth sheet: a year of its periods (4 quarters, 12 months) by default.
  const growthSheet = document.getElementById("growth_sheet");
  if (growthSheet) growthSheet.addEventListener("change", function () {
    const periods = growthSheet.selectedOptions[0].dataset.periods;
    if (!periods) return;
    document.getElementById("growth_periods").value = periods;
    document.getElementById("growth_periods_help").textContent = periods + " = year on year";
  });
  const formula = document.getElementById("ols_formula");
  const olsSheet = document.getElementById("ols_sheet");
  if (formula && olsSheet) olsSheet.addEventListener("change", function () {
    const hints = JSON.parse(formula.dataset.hints || "{}");
    formula.placeholder = hints[olsSheet.value] || "e.g. y ~ x";
  });
  form.addEventListener("submit", function () {
    const button = document.getElementById("build");
    button.disabled = true;
    form.querySelector(".building").classList.remove("d-none");
  });
})();
