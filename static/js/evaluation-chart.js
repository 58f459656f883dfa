// The outcome evaluation's bar chart: the rate per person-year before and
// after the first MDT discussion, for each measure. The figures come from
// the page (Django's json_script, #evaluation-chart-data), never from an
// inline script: the Content-Security-Policy forbids those. The table above
// the chart is its text alternative; without JavaScript it is all there is.
// Loaded with `defer` after Chart.js, on the evaluation page only.

(function () {
  "use strict";

  const data = document.getElementById("evaluation-chart-data");
  const canvas = document.getElementById("evaluation-chart");
  if (!data || !canvas || typeof Chart === "undefined") return;
  const figures = JSON.parse(data.textContent);
  const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  new Chart(canvas, {
    type: "bar",
    data: {
      labels: figures.labels,
      datasets: [
        {
          label: "Before (12 months)",
          data: figures.before,
          backgroundColor: "#768692", // NHS mid grey
        },
        {
          label: "After (12 months)",
          data: figures.after,
          backgroundColor: "#005eb8", // NHS blue
        },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: true,
      aspectRatio: 2.2,
      animation: reduceMotion ? false : { duration: 300 },
      plugins: {
        legend: { position: "bottom" },
        tooltip: {
          callbacks: {
            label: function (item) {
              return item.dataset.label + ": " + item.formattedValue + " per person-year";
            },
          },
        },
      },
      scales: {
        y: {
          beginAtZero: true,
          title: { display: true, text: "Rate per person-year" },
        },
      },
    },
  });
})();
