/* Boundary map of the place browser: Leaflet on a blank background (no tiles), fed by the tree API.
   The list under the map carries the same content, so the map is an enhancement only. */
(function () {
  "use strict";

  function showStatus(el, key) {
    var status = el.parentNode.querySelector("[data-map-status]");
    if (status) {
      status.textContent = status.getAttribute("data-" + key) || "";
      status.hidden = false;
    }
    el.hidden = true;
  }

  function draw(el, data) {
    var features = (data && data.features) || [];
    if (!features.length) {
      showStatus(el, "empty");
      return;
    }
    var link = el.getAttribute("data-link") || "";
    var map = L.map(el, {
      attributionControl: false,
      scrollWheelZoom: false,
      zoomSnap: 0.25,
      keyboard: true
    });
    var layer = L.geoJSON(data, {
      style: function () {
        return { color: "#0b57a4", weight: 1.5, fillColor: "#5b9bd5", fillOpacity: 0.18 };
      },
      onEachFeature: function (feature, shape) {
        var props = feature.properties || {};
        if (props.name) {
          shape.bindTooltip(props.name, { sticky: true, direction: "top" });
        }
        if (props.code && link) {
          shape.on("click", function () {
            window.location.href = link.replace("000000000000", props.code);
          });
          shape.on("mouseover", function () { shape.setStyle({ fillOpacity: 0.4 }); });
          shape.on("mouseout", function () { layer.resetStyle(shape); });
        }
      }
    }).addTo(map);
    map.fitBounds(layer.getBounds(), { padding: [8, 8] });
  }

  function init(el) {
    if (!window.L || !window.fetch) {
      el.hidden = true;
      return;
    }
    window.fetch(el.getAttribute("data-src"), {
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (data) { draw(el, data); })
      .catch(function () { showStatus(el, "error"); });
  }

  document.querySelectorAll("[data-boundary-map]").forEach(init);
})();
