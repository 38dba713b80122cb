/* Charts of the outcome dashboard (ECharts, vendored). The numbers come from the page's own JSON
   (json_script) and are the same as the tables beside the charts, so the charts are an enhancement:
   without script, or without ECharts, the tables carry everything. */
(function () {
  "use strict";

  var PALETTE = ["#0b57a4", "#1d6b33", "#8a4b00", "#6a3d9a", "#4d5560"];

  function read(id) {
    var el = document.getElementById(id);
    if (!el) { return null; }
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  function percent(value) {
    return value === null || value === undefined ? "—" : value + "%";
  }

  function trendOption(data) {
    var series = data.series.map(function (s) {
      return { name: s.name, type: "line", yAxisIndex: 0, data: s.values, connectNulls: false, showSymbol: data.days.length <= 31 };
    });
    series.push({ name: data.dueLabel, type: "bar", yAxisIndex: 1, data: data.due, itemStyle: { color: "#c9d6e3" } });
    return {
      color: PALETTE,
      aria: { enabled: true, decal: { show: true } },
      animation: false,
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "—" : v; } },
      legend: { type: "scroll", top: 0 },
      grid: { left: 48, right: 48, top: 40, bottom: 56 },
      xAxis: { type: "category", data: data.days },
      yAxis: [
        { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
        { type: "value", minInterval: 1, splitLine: { show: false } }
      ],
      dataZoom: data.days.length > 62 ? [{ type: "slider", bottom: 8 }] : [],
      series: series
    };
  }

  function rankingOption(data) {
    return {
      color: PALETTE,
      aria: { enabled: true, decal: { show: true } },
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: percent },
      grid: { left: 8, right: 48, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      yAxis: { type: "category", inverse: true, data: data.names },
      series: [{
        name: data.label,
        type: "bar",
        data: data.values.map(function (v, i) {
          return { value: v, itemStyle: { color: PALETTE[(data.bands[i] - 1) % PALETTE.length] } };
        }),
        label: { show: true, position: "right", formatter: function (p) { return percent(p.value); } }
      }]
    };
  }

  function draw(el) {
    var data = read(el.getAttribute("data-source"));
    if (!data || !window.echarts) { return; }
    var kind = el.getAttribute("data-metric-chart");
    el.hidden = false;
    if (kind === "ranking") {
      el.style.height = Math.max(12, data.names.length * 1.75 + 2) + "rem";
    }
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    chart.setOption(kind === "ranking" ? rankingOption(data) : trendOption(data));
    window.addEventListener("resize", function () { chart.resize(); });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-metric-chart]"), draw);
})();
