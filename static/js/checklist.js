// Checkbox lists (templates/_checklist.html): the filter box hides the rows that do not match;
// the line under the list names what is ticked, even when it is scrolled out of view; on load
// the list scrolls (itself, not the page) to its first ticked row, so the choice is in view.
(function () {
  "use strict";
  function showFirstTicked(items) {
    const ticked = items.querySelector("input[type=checkbox]:checked");
    if (!ticked) { return; }
    const row = ticked.closest(".form-check");
    const top = row.getBoundingClientRect().top - items.getBoundingClientRect().top +
      items.scrollTop;
    if (top < items.scrollTop || top + row.offsetHeight > items.scrollTop + items.clientHeight) {
      items.scrollTop = Math.max(0, top - (items.clientHeight - row.offsetHeight) / 2);
    }
  }
  document.querySelectorAll(".checklist").forEach(function (list) {
    const items = list.querySelector(".checklist-items");
    if (items) { showFirstTicked(items); }
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
