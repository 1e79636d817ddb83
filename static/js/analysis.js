// Analyse page: changing the dataset, analysis or sheet reloads the form with the right columns.
(function () {
  "use strict";
  // "Copy as LaTeX / Markdown": the export's text on the clipboard, for a paper or a README.
  document.querySelectorAll("[data-copy-url]").forEach(function (button) {
    const label = button.textContent;
    button.addEventListener("click", async function () {
      const response = await fetch(button.dataset.copyUrl, {credentials: "same-origin"});
      if (!response.ok) { button.textContent = "Could not copy"; return; }
      await navigator.clipboard.writeText(await response.text());
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 2000);
    });
  });
  const form = document.getElementById("analysis-form");
  if (!form) return;
  form.querySelectorAll(".auto-submit").forEach(function (select) {
    select.addEventListener("change", function () {
      if (select.name === "dataset" || select.name === "kind") {
        form.querySelectorAll("[name]").forEach(function (field) {
          if (!["dataset", "kind"].includes(field.name)) field.disabled = true;
        });
      } else {
        form.querySelectorAll("select[multiple], .checklist input").forEach(function (field) { field.disabled = true; });
      }
      form.submit();
    });
  });
})();
