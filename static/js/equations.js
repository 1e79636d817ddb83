// Equations page: copy buttons for answers, and interactive plots drawn with Plotly or Bokeh
// (the library is loaded by the page; the figure JSON sits in a data attribute, never markup).
// Everything else on the page works without JavaScript.
(function () {
  "use strict";
  document.querySelectorAll("button.copy").forEach(function (button) {
    button.addEventListener("click", function () {
      const text = button.dataset.copy;
      const done = function () { button.textContent = "Copied"; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { button.textContent = text; });
      } else {
        const area = document.createElement("textarea");
        area.value = text;
        document.body.appendChild(area);
        area.select();
        document.execCommand("copy");
        area.remove();
        done();
      }
    });
  });

  // Draw the figure into a fresh element; resolves when the library has drawn it.
  async function draw(holder, renderer, figure) {
    const target = document.createElement("div");
    target.id = "equation-plot";
    holder.replaceChildren(target);
    if (renderer === "bokeh") {
      // The Bokeh plot stretches to the holder's width, up to the width it was made for.
      await window.Bokeh.embed.embed_item(figure, target.id);
      return;
    }
    // A plot wider than the column shrinks to fit, keeping its shape (Plotly lays it out again).
    const layout = Object.assign({}, figure.layout);
    const room = target.clientWidth;
    if (layout.width && room >= 200 && layout.width > room) {
      if (layout.height) layout.height = Math.round(layout.height * room / layout.width);
      layout.width = room;
    }
    await window.Plotly.react(target, figure.data, layout, { displaylogo: false, responsive: true });
  }

  const holder = document.getElementById("plot-holder");
  if (holder) {
    const status = document.getElementById("plot-status");
    Promise.resolve()
      .then(function () {
        return draw(holder, holder.dataset.renderer, JSON.parse(holder.dataset.figure));
      })
      .then(function () { holder.dataset.state = "ready"; })
      .catch(function (error) {
        holder.replaceChildren();
        holder.dataset.state = "error";
        status.textContent = "The plot could not be drawn: " + error.message;
        status.classList.add("alert", "alert-danger");
      })
      .finally(function () { holder.removeAttribute("aria-busy"); });
  }
})();
