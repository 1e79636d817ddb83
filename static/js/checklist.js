// Checkbox lists (templates/_checklist.html): the filter box hides the rows that do not match;
// the line under the list names what is ticked, even when it is scrolled out of view.
(function () {
  "use strict";
  document.querySelectorAll(".checklist").forEach(function (list) {
    const chosen = list.querySelector(".checklist-chosen");
    list.addEventListener("change", function () {
      const names = Array.from(list.querySelectorAll("input[type=checkbox]:checked"))
        .map(function (input) { return input.labels[0].textContent; });
      chosen.textContent = names.length ? "Chosen: " + names.join(", ") : "None chosen";
    });
  });
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
