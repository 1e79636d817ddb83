// Analyse page: changing the dataset, analysis or sheet reloads the form with the right columns.
(function () {
  "use strict";
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
