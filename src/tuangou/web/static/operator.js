/* The operator dashboard's charts: each figure's JSON sits in the page; Plotly is served locally. */
(function () {
  "use strict";
  function draw() {
    if (!window.Plotly) return;
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var data = document.getElementById("chart-" + el.getAttribute("data-chart"));
      if (!data) return;
      var fig = JSON.parse(data.textContent);
      window.Plotly.newPlot(el, fig.data, fig.layout, { displayModeBar: false, responsive: true });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
