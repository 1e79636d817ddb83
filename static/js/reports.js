// Reports page: say the build is starting, and stop a second click from starting it twice.
(function () {
  "use strict";
  const form = document.getElementById("report-form");
  if (!form) return;
  form.addEventListener("submit", function () {
    const button = document.getElementById("build");
    button.disabled = true;
    form.querySelector(".building").classList.remove("d-none");
  });
})();
