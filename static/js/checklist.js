// Checkbox lists (templates/_checklist.html): the filter box hides the rows that do not match.
(function () {
  "use strict";
  document.querySelectorAll(".checklist-filter").forEach(function (box) {
    const rows = box.closest(".checklist").querySelectorAll(".form-check");
    box.addEventListener("input", function () {
      const text = box.value.trim().toLowerCase();
      rows.forEach(function (row) {
        row.hidden = text !== "" && !row.textContent.toLowerCase().includes(text);
      });
    });
  });
})();
