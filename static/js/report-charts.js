// Line charts of the monthly activity report. The figures come from the
// page (a JSON script element, not run); the table below each chart holds
// the same numbers for anyone who cannot see the chart.
(function () {
  "use strict";
  var source = document.getElementById("report-chart-data");
  if (!source || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  // NHS identity colours: blue, dark pink, green, warm yellow, purple, aqua green.
  var colours = ["#005eb8", "#7c2855", "#007f3b", "#ffb81c", "#330072", "#00a499"];
  data.charts.forEach(function (chart) {
    var canvas = document.querySelector('canvas[data-chart="' + chart.key + '"]');
    if (!canvas) {
      return;
    }
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: chart.series.map(function (series, index) {
          var colour = colours[index % colours.length];
          return {
            label: series.label,
            data: series.data,
            borderColor: colour,
            backgroundColor: colour,
            tension: 0,
            pointRadius: 3,
          };
        }),
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: true,
        aspectRatio: 2,
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { display: chart.series.length > 1, position: "bottom" } },
      },
    });
  });
})();
