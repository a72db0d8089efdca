// Dingdan analytics: draws the charts of /analytics and /analytics/forecast with ECharts
// (installed from npm, served from /static/vendor — never a CDN). Each chart's data is in
// its element's data-payload attribute (JSON), so the page holds no inline script (CSP).
// Works on a full page load and after an HTMX-boosted navigation.
(function () {
  "use strict";
  var ECHARTS = "/static/vendor/echarts/dist/echarts.min.js";
  var PALETTE = {
    pending_payment: "#f59e0b", paid: "#fbbf24", pending_review: "#a78bfa", on_hold: "#ef4444",
    approved: "#34d399", allocated: "#10b981", picking: "#059669", packed: "#047857",
    shipped: "#60a5fa", in_transit: "#3b82f6", out_for_delivery: "#2563eb", delivered: "#9ca3af"
  };
  var loading = null;

  function withECharts(done) {
    if (window.echarts) { done(); return; }
    if (!loading) {
      loading = [];
      var s = document.createElement("script");
      s.src = ECHARTS;
      s.onload = function () { var q = loading; loading = null; q.forEach(function (f) { f(); }); };
      document.head.appendChild(s);
    }
    loading.push(done);
  }

  function hours(seconds) { return Math.round(seconds / 36) / 100; }

  var builders = {
    trend: function (p) {
      var x = p.points.map(function (d) { return d.period; });
      return {
        tooltip: { trigger: "axis" },
        legend: { top: 0, data: [p.labels.orders, p.labels.cancelled, p.labels.shipped, p.labels.revenue + " (" + p.currency + ")"] },
        grid: { left: 48, right: 64, bottom: 32, top: 40 },
        xAxis: { type: "category", data: x },
        yAxis: [{ type: "value", minInterval: 1 }, { type: "value", position: "right" }],
        series: [
          { name: p.labels.orders, type: "bar", data: p.points.map(function (d) { return d.orders; }) },
          { name: p.labels.cancelled, type: "bar", data: p.points.map(function (d) { return d.cancelled; }) },
          { name: p.labels.shipped, type: "line", data: p.points.map(function (d) { return d.shipped; }) },
          { name: p.labels.revenue + " (" + p.currency + ")", type: "line", yAxisIndex: 1, smooth: true,
            data: p.points.map(function (d) { return d.revenue / 100; }) }
        ]
      };
    },
    stages: function (p) {
      var rows = p.stages;
      return {
        tooltip: { trigger: "axis" },
        legend: { top: 0, data: [p.labels.mean, p.labels.p90] },
        grid: { left: 110, right: 24, bottom: 32, top: 40 },
        xAxis: { type: "value", name: p.labels.hours },
        yAxis: { type: "category", data: rows.map(function (s) { return s.label; }), inverse: true },
        series: [
          { name: p.labels.mean, type: "bar",
            data: rows.map(function (s) { return { value: hours(s.mean_seconds), itemStyle: { color: PALETTE[s.status] } }; }) },
          { name: p.labels.p90, type: "scatter", symbol: "diamond", symbolSize: 12,
            data: rows.map(function (s) { return s.p90_le_seconds === null ? null : hours(s.p90_le_seconds); }) }
        ]
      };
    },
    gantt: function (p) {
      var rows = p.rows.slice().reverse();
      var data = [];
      rows.forEach(function (r, i) {
        r.bars.forEach(function (b) {
          data.push({ value: [i, Date.parse(b.start), Date.parse(b.end), b.status, r.number],
                      itemStyle: { color: PALETTE[b.status] || "#94a3b8", opacity: b.open ? 1 : 0.75 } });
        });
      });
      var marks = (p.marks || []).map(function (m) { return { name: m.label, xAxis: Date.parse(m.at) }; });
      return {
        tooltip: { formatter: function (it) {
          var v = it.value, h = hours((v[2] - v[1]) / 1000);
          return v[4] + "<br>" + (p.statuses[v[3]] || v[3]) + ": " + h + " h";
        } },
        grid: { left: 150, right: 24, bottom: 32, top: 16 },
        xAxis: { type: "time" },
        yAxis: { type: "category", data: rows.map(function (r) { return r.number; }) },
        dataZoom: [{ type: "inside", xAxisIndex: 0 }],
        series: [{
          type: "custom", encode: { x: [1, 2], y: 0 }, data: data,
          renderItem: function (params, api) {
            var start = api.coord([api.value(1), api.value(0)]);
            var end = api.coord([api.value(2), api.value(0)]);
            var h = api.size([0, 1])[1] * 0.6;
            var rect = window.echarts.graphic.clipRectByRect(
              { x: start[0], y: start[1] - h / 2, width: Math.max(1, end[0] - start[0]), height: h },
              { x: params.coordSys.x, y: params.coordSys.y, width: params.coordSys.width, height: params.coordSys.height });
            return rect && { type: "rect", transition: ["shape"], shape: rect, style: api.style() };
          }
        }, {
          // The order's promises (ship by, deliver by) as dashed markers: the SLA at a glance.
          type: "line", data: [], silent: true,
          markLine: { symbol: "none", lineStyle: { type: "dashed", color: "#dc2626" },
                      label: { formatter: "{b}" }, data: marks }
        }]
      };
    },
    regions: function (p) {
      var rows = p.rows.slice().reverse();
      return {
        tooltip: { trigger: "axis" },
        grid: { left: 80, right: 24, bottom: 24, top: 16 },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", data: rows.map(function (r) { return r.name + " " + r.key; }) },
        series: [{ name: p.label, type: "bar", data: rows.map(function (r) { return r.orders; }) }]
      };
    },
    forecast: function (p) {
      var start = Date.parse(p.start);
      var history = p.history.map(function (v, i) { return [start + i * 86400000, v]; });
      var ahead = p.forecast.map(function (d) { return [Date.parse(d.day), d.units]; });
      if (history.length) { ahead.unshift(history[history.length - 1]); }
      return {
        tooltip: { trigger: "axis" },
        legend: { top: 0, data: [p.labels.sold, p.labels.predicted] },
        grid: { left: 48, right: 24, bottom: 32, top: 40 },
        xAxis: { type: "time" },
        yAxis: { type: "value", minInterval: 1 },
        series: [
          { name: p.labels.sold, type: "bar", data: history },
          { name: p.labels.predicted, type: "line", data: ahead, lineStyle: { type: "dashed" } }
        ]
      };
    }
  };

  function draw(root) {
    var els = (root || document).querySelectorAll("[data-chart]:not([data-rendered])");
    if (!els.length) { return; }
    withECharts(function () {
      els.forEach(function (el) {
        var build = builders[el.getAttribute("data-chart")];
        if (!build) { return; }
        var payload = JSON.parse(el.getAttribute("data-payload") || "null");
        if (!payload) { return; }
        var chart = window.echarts.init(el, null, { renderer: "canvas" });
        chart.setOption(build(payload));
        el.setAttribute("data-rendered", "true");
        window.addEventListener("resize", function () { chart.resize(); });
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { draw(); });
  } else {
    draw();
  }
  document.addEventListener("htmx:load", function (e) { draw(e.target); });
})();
